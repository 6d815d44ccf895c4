/**
 * The policy watcher: informers on the policies and on every kind they can target; each policy
 * is evaluated on its own interval from those caches (one query per condition, never one per
 * target), fired targets get a remediation workflow, and the policy status says what happened.
 * Stateless apart from the `for` clocks: run as many replicas as you like, no leader election.
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { group, type PolicyKind, type PolicyStatus, policyKinds, version } from '../api/policy.ts';
import { combined, parseDuration, readConditions, recordEvent, targetKey } from '../activities/index.ts';
import { policyObjectRef } from '../activities/policy-status.ts';
import { HoldTracker } from './firing.ts';
import { checkPolicy, type CheckedPolicy, type PolicyObject } from './policies.ts';
import { startRemediation } from './starter.ts';
import { activeRemediations, type Evaluation, writeStatus } from './status.ts';
import { type Caches, targetsOf } from './targets.ts';

export interface WatcherOptions {
  kubeconfig: KubeConfig;
  client: Client;
  cluster: string;
  prometheusUrl: string | undefined;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** How often due policies are looked for; each policy still waits its evaluationInterval. */
  tickMs?: number;
  /**
   * Only policies whose labels match this equality-based selector ("team=shop,tier=web") are
   * evaluated: several watcher groups can shard the policies of one cluster.
   */
  policySelector?: string;
}

type CachedKind = 'Deployment' | 'StatefulSet' | 'Pod' | 'Node' | 'Namespace' | PolicyKind;
type Lister = () => Promise<KubernetesListObject<KubernetesObject>>;

export class PolicyWatcher implements Caches {
  private readonly informers = new Map<
    CachedKind,
    Informer<KubernetesObject> & ObjectCache<KubernetesObject>
  >();
  private readonly holds = new HoldTracker();
  private readonly lastEvaluated = new Map<string, number>();
  private readonly evaluating = new Set<string>();
  /** uid/generation of invalid policies already announced with an Event. */
  private readonly announcedInvalid = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly log: NonNullable<WatcherOptions['log']>;

  constructor(private readonly options: WatcherOptions) {
    this.log = options.log ?? ((message, fields) => console.log(JSON.stringify({ message, ...fields })));
  }

  async start(): Promise<void> {
    const { kubeconfig } = this.options;
    const core = kubeconfig.makeApiClient(CoreV1Api);
    const apps = kubeconfig.makeApiClient(AppsV1Api);
    const custom = kubeconfig.makeApiClient(CustomObjectsApi);
    const policyList = (plural: string) => () =>
      custom.listClusterCustomObject({ group, version, plural }) as Promise<
        KubernetesListObject<KubernetesObject>
      >;
    const sources: [CachedKind, string, Lister][] = [
      [
        'RemediationPolicy',
        `/apis/${group}/${version}/remediationpolicies`,
        policyList('remediationpolicies'),
      ],
      [
        'ClusterRemediationPolicy',
        `/apis/${group}/${version}/clusterremediationpolicies`,
        policyList('clusterremediationpolicies'),
      ],
      ['Deployment', '/apis/apps/v1/deployments', () => apps.listDeploymentForAllNamespaces()],
      ['StatefulSet', '/apis/apps/v1/statefulsets', () => apps.listStatefulSetForAllNamespaces()],
      ['Pod', '/api/v1/pods', () => core.listPodForAllNamespaces()],
      ['Node', '/api/v1/nodes', () => core.listNode()],
      ['Namespace', '/api/v1/namespaces', () => core.listNamespace()],
    ];
    await Promise.all(
      sources.map(async ([kind, path, list]) => {
        const informer = makeInformer(kubeconfig, path, list);
        // An informer stops on any error but 410 Gone; start it again after a pause.
        informer.on('error', (error: unknown) => {
          this.log('informer error; restarting', { kind, error: String(error) });
          setTimeout(() => void (this.stopped || informer.start().catch(() => undefined)), 2_000);
        });
        this.informers.set(kind, informer);
        await informer.start();
      }),
    );
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 1_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }

  list(kind: CachedKind): readonly KubernetesObject[] {
    return this.informers.get(kind)?.list() ?? [];
  }

  private tick(): void {
    const now = Date.now();
    for (const kind of Object.keys(policyKinds) as PolicyKind[]) {
      for (const object of this.list(kind) as PolicyObject[]) {
        if (!this.selected(object)) continue;
        const key = `${kind}/${object.metadata?.namespace ?? ''}/${object.metadata?.name}`;
        const interval = intervalOf(object);
        if (this.evaluating.has(key) || now - (this.lastEvaluated.get(key) ?? 0) < interval) continue;
        this.evaluating.add(key);
        this.lastEvaluated.set(key, now);
        this.evaluate(kind, object)
          .catch((error: unknown) => this.log('evaluation failed', { policy: key, error: String(error) }))
          .finally(() => this.evaluating.delete(key));
      }
    }
  }

  private selected(object: PolicyObject): boolean {
    const wanted = (this.options.policySelector ?? '').split(',').filter((term) => term.trim() !== '');
    const labels = object.metadata?.labels ?? {};
    return wanted.every((term) => {
      const [key = '', value = ''] = term.split('=').map((part) => part.trim());
      return labels[key] === value;
    });
  }

  /** Evaluates one policy now. Errors are reported in its status; they never reach other policies. */
  async evaluate(kind: PolicyKind, object: PolicyObject): Promise<void> {
    const check = checkPolicy(kind, object);
    const previous = object.status as PolicyStatus | undefined;
    const now = new Date();
    if (!check.valid) {
      await this.announceInvalid(check.ref, check.reason);
      await writeStatus(this.options.kubeconfig, check.ref, previous, {
        ready: { status: 'False', reason: 'Invalid', message: check.reason },
        invalid: check.reason,
        evaluatedAt: now,
      });
      return;
    }
    const policy = check.policy;
    let evaluation: Evaluation;
    try {
      evaluation = policy.spec.suspend ? await this.suspended(policy, now) : await this.fire(policy, now);
    } catch (error) {
      evaluation = {
        ready: {
          status: 'False',
          reason: 'EvaluationFailed',
          message: error instanceof Error ? error.message : String(error),
        },
        evaluatedAt: now,
      };
    }
    await writeStatus(this.options.kubeconfig, policy.ref, previous, evaluation);
  }

  private async suspended(policy: CheckedPolicy, now: Date): Promise<Evaluation> {
    return {
      ready: {
        status: 'True',
        reason: 'Suspended',
        message: 'spec.suspend is true: no new remediations start; runs in flight go on',
      },
      activeRemediations: await activeRemediations(this.options.client, this.options.cluster, policy.ref),
      evaluatedAt: now,
    };
  }

  private async fire(policy: CheckedPolicy, now: Date): Promise<Evaluation> {
    const { spec } = policy;
    const targets = targetsOf(policy, this);
    const readings = await readConditions(spec.conditions, targets, {
      kubeconfig: this.options.kubeconfig,
      prometheusUrl: this.options.prometheusUrl,
      now,
    });
    const forMs = spec.conditions.map((c) => parseDuration(c.for));
    const policyKey = `${policy.ref.uid}`;
    const keys = new Set<string>();
    let started = 0;
    for (const target of targets) {
      const key = `${policyKey}/${targetKey(target.ref)}`;
      keys.add(key);
      const fired = this.holds.observe(key, readings.get(targetKey(target.ref)) ?? [], forMs, now.getTime());
      if (!combined(spec.match, fired)) continue;
      const workflowId = await startRemediation(
        this.options.client,
        this.options.cluster,
        policy,
        target.ref,
        fired,
        now,
      );
      started += 1;
      this.log('conditions fired; remediation started or already running', { workflowId });
    }
    this.holds.retain(keys, `${policyKey}/`);
    const active = await activeRemediations(this.options.client, this.options.cluster, policy.ref);
    return {
      ready: {
        status: 'True',
        reason: 'Evaluated',
        message: `${targets.length} target(s) matched; conditions fired for ${started}; ${active.length} remediation(s) active`,
      },
      matchedTargets: targets.length,
      activeRemediations: active,
      evaluatedAt: now,
    };
  }

  private async announceInvalid(ref: CheckedPolicy['ref'], reason: string): Promise<void> {
    const key = `${ref.uid}/${ref.generation}`;
    if (this.announcedInvalid.has(key)) return;
    this.announcedInvalid.add(key);
    await recordEvent(
      this.options.kubeconfig,
      { ...policyObjectRef(ref), uid: ref.uid },
      'Warning',
      'InvalidPolicy',
      reason,
    );
  }
}

function intervalOf(object: PolicyObject): number {
  const interval = (object.spec as { evaluationInterval?: unknown } | undefined)?.evaluationInterval;
  try {
    return typeof interval === 'string' ? parseDuration(interval) : 30_000;
  } catch {
    return 30_000;
  }
}

/**
 * The policy watcher: informers on the policies and on every kind they can target; each policy
 * is evaluated on its own interval from those caches (one query per condition, never one per
 * target), fired targets get a remediation workflow, and the policy status says what happened.
 * Stateless apart from the `for` clocks (in memory only): run as many replicas as you like, no
 * leader election.
 *
 * Event-driven: the informers index each change once (object-index.ts), and a change to a
 * policy's target or to one of its Pods makes the policy due at once (targets.ts `concerns`),
 * so a Pod that starts crash-looping starts a run within the watch's latency. Changes arriving
 * together are batched into one evaluation per policy; a condition still holding when its `for`
 * ends makes the policy due then; the evaluation interval stays the fallback.
 *
 * Blast radius (policy-watcher/blast-radius.ts): when more targets of a policy fire at once than
 * `spec.blastRadius` allows, none is remediated, and nothing starts for the policy until its
 * `stormCooldown` has passed since the storm was last seen. The policy governor keeps that
 * cooldown (storm-report.ts), so it outlives a watcher restart.
 *
 * Alertmanager conditions: with `alertReceiver` set, the watcher receives Alertmanager's
 * webhook (alert-webhook.ts; a bearer token by default, alert-auth.ts) and keeps the firing
 * alerts (alert-store.ts); an alert makes the policies with Alertmanager conditions due at
 * once, and one firing of an alert starts at most one run per target and policy
 * (alert-triggers.ts).
 */
import { createLogger, type LogFn, logFn } from '../domain/logging/logger.ts';
import { policyFields } from '../domain/logging/run-fields.ts';
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
import { parseDuration } from '../domain/duration.ts';
import { recordEvent } from '../domain/kube/events.ts';
import { combined } from '../domain/conditions/compare.ts';
import { readConditions, targetKey } from '../domain/conditions/readings.ts';
import { policyObjectRef } from '../domain/kube/policy-status.ts';
import { type ConditionReading, policyLabel, type TargetRef } from '../domain/run.ts';
import { type BlastRadiusDecision, decideBlastRadius } from './blast-radius.ts';
import { reportStorm } from './storm-report.ts';
import type { FiringAlert } from '../domain/conditions/alerts.ts';
import type { AlertmanagerPayload } from './alert-payload.ts';
import { FiringAlerts } from './alert-store.ts';
import { alertTriggers } from './alert-triggers.ts';
import type { AlertReceiverOptions } from '../domain/config/watcher.ts';
import { type AlertWebhook, startAlertWebhook } from './alert-webhook.ts';
import { HoldTracker } from './firing.ts';
import { ObjectIndex } from './object-index.ts';
import {
  lastEvaluation,
  policyEvaluationDuration,
  policyEvaluations,
  remediationsStarted,
  watcherInformersSynced,
} from './metrics.ts';
import { checkPolicy, type CheckedPolicy, type PolicyObject } from './policies.ts';
import { startRemediation } from './starter.ts';
import { activeRemediations, type Evaluation, writeStatus } from './status.ts';
import { type Caches, concerns, type IndexedKind, targetsOf } from './targets.ts';

export interface WatcherOptions {
  kubeconfig: KubeConfig;
  client: Client;
  cluster: string;
  prometheusUrl: string | undefined;
  /** Where the watcher's lines go (domain/logging); unset: JSON lines on stdout at INFO. */
  log?: LogFn;
  /** How often due policies are looked for; each policy still waits its evaluationInterval. */
  tickMs?: number;
  /**
   * Only policies whose labels match this equality-based selector ("team=shop,tier=web") are
   * evaluated: several watcher groups can shard the policies of one cluster.
   */
  policySelector?: string;
  /**
   * Listen for Alertmanager's webhook (POST /alertmanager): port (0: any free one), address and
   * authentication (a bearer token file, or `none` chosen explicitly). Off when absent: only one
   * process on a machine can hold the port.
   */
  alertReceiver?: AlertReceiverOptions;
  /** A namespaced policy without spec.serviceAccountName is Invalid (the chart's requireServiceAccount). */
  requireServiceAccount?: boolean;
  /**
   * How long changes to targets are gathered before the policies they concern are evaluated:
   * one evaluation per policy for a burst of changes (default 20 ms).
   */
  batchMs?: number;
}

type CachedKind = IndexedKind | PolicyKind;
const isPolicyKind = (kind: CachedKind): kind is PolicyKind => Object.hasOwn(policyKinds, kind);
type Lister = () => Promise<KubernetesListObject<KubernetesObject>>;

export class PolicyWatcher implements Caches {
  private readonly informers = new Map<
    CachedKind,
    Informer<KubernetesObject> & ObjectCache<KubernetesObject>
  >();
  /** Each target kind's (and the namespaces') objects, indexed as the informers hear them change. */
  private readonly indexes = new Map<IndexedKind, ObjectIndex>();
  private readonly holds = new HoldTracker();
  private readonly lastEvaluated = new Map<string, number>();
  private readonly evaluating = new Set<string>();
  /** Policies to evaluate on the next tick whatever their interval: a target changed, an alert came. */
  private readonly due = new Set<string>();
  /** The tick that evaluates due policies after `batchMs`, when one is scheduled. */
  private soon: NodeJS.Timeout | undefined;
  /** Per policy, the timer that makes it due when a holding condition's `for` ends. */
  private readonly forTimers = new Map<string, NodeJS.Timeout>();
  /** Checked policies by uid, for matching changes against them (one check per generation). */
  private readonly checked = new Map<string, { generation: number; check: ReturnType<typeof checkPolicy> }>();
  /** Changes heard before every informer has listed are the initial list: every policy is due anyway. */
  private synced = false;
  /** Kinds whose informer stopped on an error and has not listed again yet. */
  private readonly failingInformers = new Set<CachedKind>();
  /** uid/generation of invalid policies already announced with an Event. */
  private readonly announcedInvalid = new Set<string>();
  /**
   * Storms per policy uid: when the last one was last seen, and whether its Warning Event went
   * out. This memory only spares runs that would be refused anyway: each storm seen is reported
   * to the policy governor, which refuses every permit (`storm-cooldown`) until the cooldown
   * ends. A restarted watcher forgets it and may start runs after the storm; the governor then
   * ends them Skipped, with the reason, and nothing acts.
   */
  private readonly storms = new Map<string, { lastSeenMs: number; announced: boolean }>();
  private timer: NodeJS.Timeout | undefined;
  /** Alerts Alertmanager said are firing; the webhook, when it listens, fills it. */
  private readonly alerts = new FiringAlerts();
  private webhook: AlertWebhook | undefined;
  private stopped = false;
  private readonly log: NonNullable<WatcherOptions['log']>;

  constructor(private readonly options: WatcherOptions) {
    this.log = options.log ?? logFn(createLogger({ process: 'watcher', level: 'INFO' }));
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
          this.log('informer error; restarting', { kind, error: String(error) }, 'warn');
          this.informerHealth(kind, false);
          const restart = () => informer.start().then(() => this.informerHealth(kind, true));
          setTimeout(() => void (this.stopped || restart().catch(() => undefined)), 2_000);
        });
        if (!isPolicyKind(kind)) this.indexChanges(kind, informer);
        this.informers.set(kind, informer);
        await informer.start();
      }),
    );
    this.synced = true;
    watcherInformersSynced.set(1);
    if (this.options.alertReceiver !== undefined) {
      this.webhook = await startAlertWebhook(
        this.options.alertReceiver,
        (payload) => this.alertsReceived(payload),
        this.log,
      );
    }
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 1_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.soon);
    for (const timer of this.forTimers.values()) clearTimeout(timer);
    await this.webhook?.close();
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }

  /** True while every informer is listing and watching: the watcher's liveness. */
  get healthy(): boolean {
    return !this.stopped && this.informers.size > 0 && this.failingInformers.size === 0;
  }

  private informerHealth(kind: CachedKind, synced: boolean): void {
    if (synced) this.failingInformers.delete(kind);
    else this.failingInformers.add(kind);
    watcherInformersSynced.set(this.failingInformers.size === 0 ? 1 : 0);
  }

  /** The port the Alertmanager webhook listens on, if it does. */
  get alertWebhookPort(): number | undefined {
    return this.webhook?.port;
  }

  /** The alerts Alertmanager last said are firing, as this watcher heard it. */
  get firingAlerts(): readonly FiringAlert[] {
    return this.alerts.list();
  }

  /** Keeps the alerts, and makes every policy with an Alertmanager condition due at once. */
  private alertsReceived(payload: AlertmanagerPayload): void {
    this.alerts.receive(payload);
    this.log('alerts received', { groupKey: payload.groupKey, alerts: payload.alerts.length });
    for (const kind of Object.keys(policyKinds) as PolicyKind[]) {
      for (const object of this.list(kind) as PolicyObject[]) {
        const conditions = (object.spec as { conditions?: { source?: string }[] } | undefined)?.conditions;
        if (!conditions?.some((c) => c.source === 'Alertmanager')) continue;
        this.makeDue(keyOf(kind, object));
      }
    }
  }

  list(kind: CachedKind): readonly KubernetesObject[] {
    return this.informers.get(kind)?.list() ?? [];
  }

  index(kind: IndexedKind): ObjectIndex {
    let index = this.indexes.get(kind);
    if (index === undefined) this.indexes.set(kind, (index = new ObjectIndex()));
    return index;
  }

  /** Keeps `kind`'s index up to date with its informer, and makes the policies a change concerns due. */
  private indexChanges(kind: IndexedKind, informer: Informer<KubernetesObject>): void {
    const index = this.index(kind);
    const changed = (object: KubernetesObject, gone: boolean) => {
      // A deleted object concerns the policies it was indexed for, so it is matched before it goes.
      if (gone) this.objectChanged(kind, object);
      if (gone) index.remove(object);
      else index.upsert(object);
      if (!gone) this.objectChanged(kind, object);
    };
    informer.on('add', (object) => changed(object, false));
    informer.on('update', (object) => changed(object, false));
    informer.on('delete', (object) => changed(object, true));
  }

  private objectChanged(kind: IndexedKind, object: KubernetesObject): void {
    if (!this.synced || kind === 'Namespace') return;
    for (const policyKind of Object.keys(policyKinds) as PolicyKind[]) {
      for (const policy of this.list(policyKind) as PolicyObject[]) {
        if (!this.selected(policy)) continue;
        const check = this.checkedPolicy(policyKind, policy);
        if (check.valid && concerns(check.policy, kind, object, this))
          this.makeDue(keyOf(policyKind, policy));
      }
    }
  }

  private checkedPolicy(kind: PolicyKind, object: PolicyObject): ReturnType<typeof checkPolicy> {
    const uid = object.metadata?.uid ?? '';
    const generation = object.metadata?.generation ?? 0;
    const known = this.checked.get(uid);
    if (known?.generation === generation) return known.check;
    const check = checkPolicy(kind, object, { requireServiceAccount: this.options.requireServiceAccount });
    this.checked.set(uid, { generation, check });
    return check;
  }

  /** Evaluates the policy on the next tick, `batchMs` from now at the latest. */
  private makeDue(key: string): void {
    this.due.add(key);
    if (this.soon !== undefined || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.tick();
    }, this.options.batchMs ?? 20);
  }

  private tick(): void {
    const now = Date.now();
    const uids = new Set<string>();
    const keys = new Set<string>();
    for (const kind of Object.keys(policyKinds) as PolicyKind[]) {
      for (const object of this.list(kind) as PolicyObject[]) {
        if (!this.selected(object)) continue;
        uids.add(object.metadata?.uid ?? '');
        const key = keyOf(kind, object);
        keys.add(key);
        const interval = intervalOf(object);
        if (this.evaluating.has(key)) continue;
        if (!this.due.has(key) && now - (this.lastEvaluated.get(key) ?? 0) < interval) continue;
        this.due.delete(key);
        this.evaluating.add(key);
        this.lastEvaluated.set(key, now);
        this.evaluate(kind, object)
          .catch((error: unknown) =>
            this.log(
              'evaluation failed',
              {
                ...policyFields({ namespace: object.metadata?.namespace, name: object.metadata?.name ?? '' }),
                kind,
                error: String(error),
              },
              'error',
            ),
          )
          .finally(() => {
            this.evaluating.delete(key);
            // A change heard while it was evaluated: evaluate it again, with the change.
            if (this.due.has(key)) this.makeDue(key);
          });
      }
    }
    // Storms (and checks) of policies that are gone (or no longer selected) are forgotten with them.
    for (const uid of this.storms.keys()) if (!uids.has(uid)) this.storms.delete(uid);
    for (const uid of this.checked.keys()) if (!uids.has(uid)) this.checked.delete(uid);
    for (const key of this.due) if (!keys.has(key)) this.due.delete(key);
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
    const endTimer = policyEvaluationDuration.startTimer({ kind });
    const result = await this.evaluateOnce(kind, object).finally(() => {
      endTimer();
      lastEvaluation.setToCurrentTime();
    });
    policyEvaluations.inc({ policy: policyLabel(result.ref), result: result.reason });
  }

  /** One evaluation; returns the policy and the reason of its Ready condition, for the metrics. */
  private async evaluateOnce(
    kind: PolicyKind,
    object: PolicyObject,
  ): Promise<{ ref: CheckedPolicy['ref']; reason: string }> {
    const check = checkPolicy(kind, object, { requireServiceAccount: this.options.requireServiceAccount });
    const previous = object.status as PolicyStatus | undefined;
    const now = new Date();
    if (!check.valid) {
      await this.announceInvalid(check.ref, check.reason);
      await writeStatus(this.options.kubeconfig, check.ref, previous, {
        ready: { status: 'False', reason: 'Invalid', message: check.reason },
        invalid: check.reason,
        evaluatedAt: now,
      });
      return { ref: check.ref, reason: 'Invalid' };
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
    return { ref: policy.ref, reason: evaluation.ready.reason };
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
    const { client, cluster } = this.options;
    const alerts = await alertTriggers(client, cluster, policy, this.alerts.list());
    const readings = await readConditions(spec.conditions, targets, {
      kubeconfig: this.options.kubeconfig,
      prometheusUrl: this.options.prometheusUrl,
      now,
      alerts: alerts?.eligible,
    });
    const forMs = spec.conditions.map((c) => parseDuration(c.for));
    const policyKey = `${policy.ref.uid}`;
    const keys = new Set<string>();
    const unhealthy: { target: TargetRef; readings: ConditionReading[]; alerts: FiringAlert[] }[] = [];
    let nextFiring = Infinity;
    for (const target of targets) {
      const key = `${policyKey}/${targetKey(target.ref)}`;
      keys.add(key);
      const read = readings.get(targetKey(target.ref)) ?? [];
      const fired = this.holds.observe(key, read, forMs, now.getTime());
      nextFiring = Math.min(nextFiring, this.holds.nextFiring(key, read, forMs, now.getTime()));
      if (combined(spec.match, fired)) {
        unhealthy.push({ target: target.ref, readings: fired, alerts: alerts?.behind(target, fired) ?? [] });
      }
    }
    this.holds.retain(keys, `${policyKey}/`);
    this.dueWhenHeld(policy, nextFiring);

    // Counted over the whole evaluation before anything starts: a storm starts nothing at all.
    const storm = this.storms.get(policy.ref.uid);
    const decision = decideBlastRadius({
      unhealthy: unhealthy.length,
      matched: targets.length,
      blastRadius: spec.blastRadius,
      lastStormMs: storm?.lastSeenMs,
      nowMs: now.getTime(),
    });
    let started = 0;
    if (decision.verdict === 'Remediate') {
      this.storms.delete(policy.ref.uid);
      for (const { target, readings: fired, alerts: behind } of unhealthy) {
        const workflowId = await startRemediation(
          this.options.client,
          this.options.cluster,
          policy,
          target,
          fired,
          now,
          behind,
        );
        started += 1;
        remediationsStarted.inc({ policy: policyLabel(policy.ref) });
        this.log('conditions fired; remediation started or already running', {
          ...policyFields(policy.ref),
          workflowId,
        });
      }
    } else if (decision.verdict === 'BlastRadius') {
      await this.stormSeen(policy, decision, now);
    }

    const active = await activeRemediations(this.options.client, this.options.cluster, policy.ref);
    const ready: Evaluation['ready'] =
      decision.verdict === 'Remediate'
        ? {
            status: 'True',
            reason: 'Evaluated',
            message: `${targets.length} target(s) matched; conditions fired for ${started}; ${active.length} remediation(s) active`,
          }
        : { status: 'False', reason: decision.verdict, message: decision.message };
    return { ready, matchedTargets: targets.length, activeRemediations: active, evaluatedAt: now };
  }

  /** Makes the policy due when the first of its holding conditions will have held for its `for`. */
  private dueWhenHeld(policy: CheckedPolicy, atMs: number): void {
    const key = keyOf(policy.ref.kind, {
      metadata: { namespace: policy.ref.namespace, name: policy.ref.name },
    });
    clearTimeout(this.forTimers.get(key));
    this.forTimers.delete(key);
    if (!Number.isFinite(atMs) || this.stopped) return;
    const timer = setTimeout(
      () => {
        this.forTimers.delete(key);
        this.makeDue(key);
      },
      Math.max(0, atMs - Date.now()),
    );
    this.forTimers.set(key, timer);
  }

  /**
   * Remembers that a storm is seen now, and records the Warning Event once per storm: when a new
   * storm begins, or on a later evaluation if recording it failed.
   */
  private async stormSeen(
    policy: CheckedPolicy,
    decision: Extract<BlastRadiusDecision, { verdict: 'BlastRadius' }>,
    now: Date,
  ): Promise<void> {
    const uid = policy.ref.uid;
    const announced = !decision.newStorm && (this.storms.get(uid)?.announced ?? false);
    const storm = { lastSeenMs: now.getTime(), announced };
    this.storms.set(uid, storm);
    // The policy governor keeps the cooldown, so a restarted watcher (or another replica) keeps it too.
    await reportStorm(this.options.client, this.options.cluster, policy, decision.message).catch(
      (error: unknown) =>
        this.log(
          'could not report the storm to the policy governor',
          { ...policyFields(policy.ref), error: String(error) },
          'warn',
        ),
    );
    if (announced) return;
    this.log(
      'blast radius exceeded; remediating none',
      { ...policyFields(policy.ref), reason: decision.message },
      'warn',
    );
    try {
      await recordEvent(
        this.options.kubeconfig,
        { ...policyObjectRef(policy.ref), uid },
        'Warning',
        'BlastRadiusExceeded',
        decision.event,
      );
      storm.announced = true;
    } catch (error) {
      // The status says it all the same; the Event is tried again on the next evaluation.
      this.log(
        'could not record the BlastRadiusExceeded event',
        { ...policyFields(policy.ref), error: String(error) },
        'warn',
      );
    }
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

/** The watcher's key for a policy: its kind, namespace and name. */
const keyOf = (kind: PolicyKind, object: KubernetesObject) =>
  `${kind}/${object.metadata?.namespace ?? ''}/${object.metadata?.name}`;

function intervalOf(object: PolicyObject): number {
  const interval = (object.spec as { evaluationInterval?: unknown } | undefined)?.evaluationInterval;
  try {
    return typeof interval === 'string' ? parseDuration(interval) : 30_000;
  } catch {
    return 30_000;
  }
}

/**
 * What every benchmark shares: the local stack's clients, one bench run id, and a record of
 * everything the run creates (namespaces, KWOK nodes, cluster policies, workflows), so that
 * `cleanup` removes it all, whatever failed on the way.
 *
 * Bench policies carry the label `kubemedic.io/bench-run=<id>` and the bench's watchers select
 * only those (policySelector), so a bench never acts on anyone else's policies, nor theirs on it.
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { group, type PolicyKind, policyKinds, version } from '../api/policy.ts';
import { installCrds } from '../devstack/crds.ts';
import { fakeNode } from '../devstack/fake-nodes.ts';
import { kwokCustomStatusAnnotation } from '../devstack/servers.ts';
import { environment, isUp, loadKubeconfig, up } from '../devstack/stack.ts';
import { inParallel, until } from './measure.ts';

export const benchRunLabel = 'kubemedic.io/bench-run';
export const strategicMerge = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** A condition no bench Deployment meets: for policies whose runs the bench starts itself. */
export const neverFires = {
  name: 'never',
  source: 'Kubernetes',
  kubernetes: { state: 'Restarts' },
  operator: '>',
  threshold: 1000,
} as const;

export class BenchContext {
  readonly id = `bench-${randomBytes(3).toString('hex')}`;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
  private readonly namespaces: string[] = [];
  private readonly nodes: string[] = [];
  private readonly customStatusNamespaces = new Set<string>();
  private readonly clusterPolicies: string[] = [];
  private readonly workflows = new Set<string>();
  private readonly closers: (() => Promise<unknown>)[] = [];

  private constructor(
    readonly kubeconfig: KubeConfig,
    /** The Temporal frontend this run's client and workers use (the dev server unless told). */
    readonly temporalAddress: string,
    readonly connection: Connection,
    readonly client: Client,
  ) {
    this.core = kubeconfig.makeApiClient(CoreV1Api);
    this.apps = kubeconfig.makeApiClient(AppsV1Api);
    this.custom = kubeconfig.makeApiClient(CustomObjectsApi);
  }

  static async open(temporalAddress = environment().TEMPORAL_ADDRESS): Promise<BenchContext> {
    if (!(await isUp())) await up(() => undefined);
    const kubeconfig = loadKubeconfig();
    await installCrds(kubeconfig);
    const connection = await Connection.connect({ address: temporalAddress });
    const client = new Client({ connection, namespace: environment().TEMPORAL_NAMESPACE });
    return new BenchContext(kubeconfig, temporalAddress, connection, client);
  }

  /** The selector a bench watcher evaluates policies by: only this run's. */
  get policySelector(): string {
    return `${benchRunLabel}=${this.id}`;
  }

  /** Stops or removes it at cleanup (a watcher, a worker, an informer). */
  onCleanup(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  /** A workflow to terminate at cleanup if it is still running. */
  started(workflowId: string): void {
    this.workflows.add(workflowId);
  }

  async namespace(suffix: string): Promise<string> {
    const name = `${this.id}-${suffix}`;
    await this.core.createNamespace({ body: { metadata: { name, labels: { [benchRunLabel]: this.id } } } });
    this.namespaces.push(name);
    return name;
  }

  /** A KWOK node of this run, tainted so nobody else's Pods land on it, Ready once KWOK says so. */
  async node(suffix: string, labels: Record<string, string> = {}): Promise<string> {
    const name = `${this.id}-${suffix}`;
    const node = fakeNode(name);
    node.metadata!.labels = { ...node.metadata!.labels, ...labels, [benchRunLabel]: this.id };
    node.status!.allocatable = { ...node.status!.allocatable, pods: '20000' };
    node.status!.capacity = { ...node.status!.capacity, pods: '20000' };
    node.spec = { taints: [{ key: benchRunLabel, value: this.id, effect: 'NoSchedule' }] };
    await this.core.createNode({ body: node });
    this.nodes.push(name);
    return name;
  }

  /**
   * A policy of this run. Namespaced ones go with their namespace; cluster ones are deleted at
   * cleanup.
   */
  async policy(
    kind: PolicyKind,
    name: string,
    namespace: string | undefined,
    spec: unknown,
    labels: Record<string, string> = {},
  ): Promise<void> {
    const { plural } = policyKinds[kind];
    const body = {
      apiVersion: `${group}/${version}`,
      kind,
      metadata: { name, namespace, labels: { ...labels, [benchRunLabel]: this.id } },
      spec,
    };
    if (namespace) {
      await this.custom.createNamespacedCustomObject({ group, version, plural, namespace, body });
    } else {
      await this.custom.createClusterCustomObject({ group, version, plural, body });
      this.clusterPolicies.push(name);
    }
  }

  /** Standalone Pods on `node`; with `customStatus` KWOK leaves their status to the bench. */
  async pods(
    namespace: string,
    names: string[],
    node: string,
    labels: (i: number) => Record<string, string>,
    customStatus = false,
  ): Promise<void> {
    if (customStatus) this.customStatusNamespaces.add(namespace);
    await inParallel(names, 16, (name, i) =>
      this.core.createNamespacedPod({
        namespace,
        body: {
          metadata: {
            name,
            labels: labels(i),
            annotations: customStatus ? { [kwokCustomStatusAnnotation]: 'custom' } : undefined,
          },
          spec: {
            nodeName: node,
            tolerations: [{ key: benchRunLabel, operator: 'Exists' }],
            containers: [{ name: 'app', image: 'example.com/app:1' }],
          },
        } satisfies V1Pod,
      }),
    );
  }

  /** Removes everything this run created; says what it could not remove instead of throwing. */
  async cleanup(log: (line: string) => void): Promise<void> {
    const attempt = async (what: string, action: () => Promise<unknown>) => {
      try {
        await action();
      } catch (error) {
        log(`cleanup: could not remove ${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    for (const close of this.closers.reverse()) await attempt('a watcher or worker', close);
    for (const workflowId of this.workflows) {
      await attempt(workflowId, () =>
        this.client.workflow
          .getHandle(workflowId)
          .terminate('benchmark done')
          .catch((error: unknown) => {
            if (!String(error).includes('not found') && !String(error).includes('already completed'))
              throw error;
          }),
      );
    }
    // The governors the runs started (one per policy, namespace and cluster) outlive them.
    await attempt('the governors', async () => {
      const query = `WorkflowId STARTS_WITH "governor/${this.id}" AND ExecutionStatus = "Running"`;
      for await (const governor of this.client.workflow.list({ query }))
        await this.client.workflow.getHandle(governor.workflowId).terminate('benchmark done');
    });
    const { plural } = policyKinds.ClusterRemediationPolicy;
    for (const name of this.clusterPolicies)
      await attempt(`policy ${name}`, () =>
        this.custom.deleteClusterCustomObject({ group, version, plural, name }),
      );
    for (const namespace of this.namespaces) {
      // Custom-status Pods are never finalized by KWOK: delete them at once, or the namespace hangs.
      if (this.customStatusNamespaces.has(namespace))
        await attempt(`the Pods of ${namespace}`, () =>
          this.core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 }),
        );
      await attempt(`namespace ${namespace}`, () => this.core.deleteNamespace({ name: namespace }));
    }
    // KWOK finalizes the deleted Pods only while their node is there: the nodes go last.
    await attempt('the namespaces (still terminating after 5 minutes)', () =>
      until(
        'the namespaces to be gone',
        async () => {
          const left = (await this.core.listNamespace({ labelSelector: this.policySelector })).items;
          return left.length === 0 ? true : undefined;
        },
        { timeoutMs: 300_000, everyMs: 2_000 },
      ),
    );
    for (const name of this.nodes) await attempt(`node ${name}`, () => this.core.deleteNode({ name }));
    await this.connection.close();
  }
}

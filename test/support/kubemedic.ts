/**
 * KubeMedic itself on the local stack, for end-to-end tests: the CRDs installed, a real worker
 * on a task queue of the test's own (its own "cluster" name), a real policy watcher, and a
 * Temporal client. Everything stops when the test file ends.
 *
 * The worker and the watcher run under exactly the chart's rendered RBAC (test/support/chart.ts:
 * a token of each ServiceAccount the chart makes), while the tests themselves set up and inspect
 * the cluster as the admin.
 */
import { CustomObjectsApi } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { group, type PolicyKind, policyKinds, version } from '../../api/index.ts';
import { repoRoot } from '../../devstack/config.ts';
import { clusters, type KubernetesCluster } from '../../devstack/clusters.ts';
import { installCrds } from '../../devstack/crds.ts';
import { loadKubeconfig, type TemporalServer } from '../../devstack/environment.ts';
import { ensureAlertReceiverToken } from '../../devstack/server-configs.ts';
import { environment } from '../../devstack/stack.ts';
import {
  checkPolicy,
  PolicyWatcher,
  startRemediation,
  type WatcherOptions,
} from '../../policy-watcher/index.ts';
import { taskQueueFor } from '../../domain/config/names.ts';
import type { AlertReceiverAuth } from '../../domain/config/watcher.ts';
import type { PolicyObject } from '../../policy-watcher/policies.ts';
import type { remediation } from '../../workflows/remediation.ts';
import type { TargetRef } from '../../domain/run.ts';
import { createWorker, type WorkerOptions } from '../../worker/worker.ts';
import { chartIdentities } from './chart.ts';
import { conditions, type PolicySpecInput } from './policy-builder.ts';
import { freePort } from './ports.ts';
import { ensureStack, kubeconfig } from './stack.ts';

export interface KubeMedic {
  cluster: string;
  /** The stack's Kubernetes cluster it runs for (devstack/clusters.ts): the first unless named. */
  kubernetes: KubernetesCluster;
  client: Client;
  worker: Worker;
  /**
   * Starts a policy watcher (several may run, as replicas); all stop with the test file. Only
   * the Alertmanager test gives it a webhook port (it then requires the stack's alert receiver
   * token, as the chart's watcher does: devstack/server-configs.ts; or the `alertReceiverAuth`
   * given). Its log is
   * silent unless a test listens (the fuzz suite counts failed evaluations).
   */
  startWatcher(
    options?: { alertWebhookPort?: number; alertReceiverAuth?: AlertReceiverAuth } & Partial<
      Pick<WatcherOptions, 'log'>
    >,
  ): Promise<PolicyWatcher>;
  /** Stops the worker; `restartWorker` brings a new one up on the same task queue. */
  stopWorker(): Promise<void>;
  restartWorker(): Promise<void>;
}

/** What a test file may choose of its KubeMedic; useKubeMedic's defaults fill the rest. */
export interface KubeMedicOptions {
  inProcessWorker?: boolean;
  /** The Temporal server it runs on (devstack/environment.ts): the dev server unless named. */
  temporal?: TemporalServer;
  kubernetes?: KubernetesCluster;
  workerOptions?: Partial<
    Pick<
      WorkerOptions,
      | 'globalLimits'
      | 'maxConcurrentPerNamespace'
      | 'protectedNamespaces'
      | 'requireServiceAccount'
      | 'defaultSinks'
      | 'outbound'
    >
  >;
}

/**
 * Registers hooks that bring KubeMedic up for this test file and take it down afterwards.
 * With `inProcessWorker: false` no worker runs in the test process (a test then runs worker
 * processes of its own, as crash tests do). With `kubernetes: clusters.b` it runs for the
 * stack's second cluster (its own chart identities there); a file may use one per cluster, each
 * with its own KubeMedic cluster name, so its own task queue, workflow IDs and governors.
 */
export function useKubeMedic({
  inProcessWorker = true,
  kubernetes = clusters.a,
  temporal,
  workerOptions = {},
}: KubeMedicOptions = {}): KubeMedic {
  const connections: { close(): Promise<void> }[] = [];
  const watchers: PolicyWatcher[] = [];
  let running: Promise<void> | undefined;
  const temporalAddress = () => temporal?.address() ?? environment().TEMPORAL_ADDRESS;
  const medic = { cluster: `test-${randomBytes(3).toString('hex')}`, kubernetes } as KubeMedic;
  // One label per file, whatever its clusters: each watcher sees only its own API server's policies.
  if (testRun === 'none') testRun = medic.cluster;

  const startWorker = async () => {
    const connection = await NativeConnection.connect({ address: temporalAddress() });
    connections.push(connection);
    const identities = await chartIdentities(kubernetes);
    medic.worker = await createWorker({
      connection,
      namespace: environment().TEMPORAL_NAMESPACE,
      taskQueue: taskQueueFor(medic.cluster),
      kubeconfig: identities.worker,
      ownNamespace: identities.namespace,
      prometheusUrl: environment().PROMETHEUS_URL,
      alertmanagerUrl: environment().ALERTMANAGER_URL,
      shutdownGraceTime: '2 seconds',
      // The tests' webhook and notification receivers listen on 127.0.0.1 (refused by default).
      outbound: { allowLoopback: true },
      // The documented opt-out, explicitly: most tests' policies name no ServiceAccount. Tests
      // of the default (requireServiceAccount: true) say so in their workerOptions.
      requireServiceAccount: false,
      ...workerOptions,
    });
    running = medic.worker.run();
  };

  before(async () => {
    // From here on this block's policies carry its own run: a file may hold one describe block
    // per Temporal server, and a later block's watcher must not act on an earlier one's policies.
    testRun = medic.cluster;
    await ensureStack();
    await installCrds(loadKubeconfig(kubernetes));
    if (kubernetes === clusters.a) ({ workerKubeconfigFile } = await chartIdentities());
    const connection = await Connection.connect({ address: temporalAddress() });
    connections.push(connection);
    medic.client = new Client({ connection, namespace: environment().TEMPORAL_NAMESPACE });
    if (inProcessWorker) await startWorker();
  });
  medic.startWatcher = async ({ alertWebhookPort, alertReceiverAuth, log = () => undefined } = {}) => {
    const watcher = new PolicyWatcher({
      kubeconfig: (await chartIdentities(kubernetes)).watcher,
      client: medic.client,
      cluster: medic.cluster,
      prometheusUrl: environment().PROMETHEUS_URL,
      tickMs: 200,
      // Only this file's policies: files run one after another, but a watcher must never act
      // on another file's targets with this file's worker.
      policySelector: `${testRunLabel}=${testRun}`,
      requireServiceAccount: workerOptions.requireServiceAccount ?? false,
      log,
      alertReceiver:
        alertWebhookPort === undefined
          ? undefined
          : {
              port: alertWebhookPort,
              auth: alertReceiverAuth ?? { mode: 'token', tokenFile: ensureAlertReceiverToken() },
            },
    });
    // Kept before it starts: a start that fails half-way (its webhook port taken, say) leaves
    // informers running, which must still be stopped or the test file never exits.
    watchers.push(watcher);
    await watcher.start();
    return watcher;
  };
  medic.stopWorker = async () => {
    if (medic.worker?.getState() === 'RUNNING') medic.worker.shutdown();
    await running;
  };
  medic.restartWorker = startWorker;
  // Everything this started stops, whatever fails on the way: a handle left open would keep the
  // test file from ever exiting.
  after(async () => {
    try {
      await Promise.allSettled(watchers.map((w) => w.stop()));
      await medic.stopWorker();
    } finally {
      await Promise.allSettled(connections.map((connection) => connection.close()));
    }
  });
  return medic;
}

/** Policies carry the test file's run, so its watchers evaluate only its own. */
export const testRunLabel = 'kubemedic.io/test-run';
let testRun = 'none';

/** Cluster policies outlive the test namespace, so the file that made them deletes them. */
const clusterPolicies: string[] = [];
after(async () => {
  if (clusterPolicies.length === 0) return; // (and no kubeconfig is needed: the stack may never have come up)
  const api = kubeconfig().makeApiClient(CustomObjectsApi);
  const { plural } = policyKinds.ClusterRemediationPolicy;
  for (const name of clusterPolicies) {
    await api.deleteClusterCustomObject({ group, version, plural, name }).catch(() => undefined);
  }
});

/** A policy's name, and its namespace unless it is a ClusterRemediationPolicy. */
export type PolicyMetadata = { name: string; namespace?: string };

/**
 * A spec whose actions are untyped, accepted only where the kind is not a literal (so the
 * compiler cannot pick the spec type): test/e2e/actions.test.ts builds its actions as
 * `Record<string, unknown>` and is another engineer's to move to `ActionInput`. A call with a
 * literal kind never falls back to it.
 */
type SpecWithUntypedActions<K extends PolicyKind> = [PolicyKind] extends [K]
  ? Omit<PolicySpecInput<'ClusterRemediationPolicy'>, 'actions'> & { actions: Record<string, unknown>[] }
  : never;

/** Creates a policy of either kind, its spec typed as the schema's input (see policy-builder.ts). */
export function createPolicy<K extends PolicyKind>(
  kind: K,
  metadata: PolicyMetadata,
  spec: PolicySpecInput<K>,
): Promise<object>;
export function createPolicy<K extends PolicyKind>(
  kind: K,
  metadata: PolicyMetadata,
  spec: SpecWithUntypedActions<K>,
): Promise<object>;
export function createPolicy(kind: PolicyKind, metadata: PolicyMetadata, spec: unknown) {
  return createUncheckedPolicy(kind, metadata, spec);
}

/** A RemediationPolicy, typed, in the stack's cluster named (createPolicy makes policies in the first). */
export const createPolicyIn = (
  kubernetes: KubernetesCluster,
  metadata: PolicyMetadata & { namespace: string },
  spec: PolicySpecInput<'RemediationPolicy'>,
) => createUncheckedPolicy('RemediationPolicy', metadata, spec, kubernetes);

/**
 * Creates a policy whose spec the compiler cannot vouch for: deliberately bad input (admission
 * tests) and manifests read from files. Anything else goes through the typed `createPolicy`.
 */
export async function createUncheckedPolicy(
  kind: PolicyKind,
  metadata: PolicyMetadata,
  spec: unknown,
  kubernetes: KubernetesCluster = clusters.a,
) {
  const api = loadKubeconfig(kubernetes).makeApiClient(CustomObjectsApi);
  const { plural } = policyKinds[kind];
  const labels = { [testRunLabel]: testRun };
  const body = { apiVersion: `${group}/${version}`, kind, metadata: { ...metadata, labels }, spec };
  if (metadata.namespace) {
    return api.createNamespacedCustomObject({ group, version, plural, namespace: metadata.namespace, body });
  }
  if (kubernetes !== clusters.a) throw new Error('cluster policies are made in the first cluster only');
  clusterPolicies.push(metadata.name);
  return api.createClusterCustomObject({ group, version, plural, body });
}

export async function readPolicy(kind: PolicyKind, metadata: PolicyMetadata) {
  const api = kubeconfig().makeApiClient(CustomObjectsApi);
  const { plural } = policyKinds[kind];
  return (
    metadata.namespace
      ? await api.getNamespacedCustomObject({
          group,
          version,
          plural,
          namespace: metadata.namespace,
          name: metadata.name,
        })
      : await api.getClusterCustomObject({ group, version, plural, name: metadata.name })
  ) as { status?: Record<string, unknown>; metadata: { uid: string; generation: number } };
}

/**
 * Starts a run now, exactly as the watcher would when the policy's conditions fire, from the
 * policy as the API server stored it (defaults applied). Returns a typed handle.
 */
export async function startRunNow(medic: KubeMedic, policy: PolicyMetadata, target: TargetRef) {
  const kind = policy.namespace ? 'RemediationPolicy' : 'ClusterRemediationPolicy';
  const check = checkPolicy(kind, (await readPolicy(kind, policy)) as PolicyObject);
  if (!check.valid) throw new Error(`policy ${policy.name} is invalid: ${check.reason}`);
  const workflowId = await startRemediation(
    medic.client,
    medic.cluster,
    check.policy,
    target,
    [],
    new Date(),
  );
  return medic.client.workflow.getHandle<typeof remediation>(workflowId);
}

/** For the files that import it from here (cli.test.ts); others use policy-builder.ts's `conditions`. */
export const deploymentUnavailable = conditions.deploymentUnavailable;

const workerProcesses: ChildProcess[] = [];
/** The chart's worker identity as a kubeconfig file, set by useKubeMedic's `before`. */
let workerKubeconfigFile: string | undefined;
after(() => workerProcesses.forEach((worker) => worker.kill('SIGKILL')));

/**
 * The worker exactly as it runs in production: worker/main.ts in a process of its own, for the
 * tests that kill it. One process (node with the tsx loader), not the tsx CLI, which would run
 * node as a child that SIGKILL of the parent leaves alive. Both its ports are free ones: the
 * defaults (9464, and the SDK's 9466) may be held by the demo's worker, and a worker that
 * cannot bind them dies at start (issue 11).
 */
export async function spawnWorkerProcess(cluster: string): Promise<ChildProcess> {
  if (workerKubeconfigFile === undefined)
    throw new Error('spawnWorkerProcess needs useKubeMedic: call it in a test');
  const worker = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'worker/main.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      KUBECONFIG: workerKubeconfigFile,
      TEMPORAL_ADDRESS: environment().TEMPORAL_ADDRESS,
      KUBEMEDIC_CLUSTER: cluster,
      PROMETHEUS_URL: environment().PROMETHEUS_URL,
      KUBEMEDIC_METRICS_PORT: String(await freePort()),
      KUBEMEDIC_SDK_METRICS_PORT: String(await freePort()),
      // The opt-out, as for the in-process worker: the crash tests' policies name no ServiceAccount.
      KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT: 'false',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // A worker that dies on its own (bad configuration, a port taken) says why in the test output;
  // one the test kills does not.
  let stderr = '';
  worker.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  worker.on('exit', (code) => {
    if (code !== null) console.error(`worker process ${worker.pid} exited with ${code}:\n${stderr}`);
  });
  workerProcesses.push(worker);
  return worker;
}

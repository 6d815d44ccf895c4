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
import { installCrds } from '../../devstack/crds.ts';
import { environment } from '../../devstack/stack.ts';
import {
  checkPolicy,
  PolicyWatcher,
  startRemediation,
  type WatcherOptions,
} from '../../policy-watcher/index.ts';
import { taskQueueFor } from '../../domain/config/names.ts';
import type { PolicyObject } from '../../policy-watcher/policies.ts';
import type { remediation } from '../../workflows/remediation.ts';
import type { TargetRef } from '../../domain/run.ts';
import { createWorker, type WorkerOptions } from '../../worker/worker.ts';
import { chartIdentities } from './chart.ts';
import { ensureStack, kubeconfig } from './stack.ts';

export interface KubeMedic {
  cluster: string;
  client: Client;
  worker: Worker;
  /**
   * Starts a policy watcher (several may run, as replicas); all stop with the test file. Only
   * the Alertmanager test gives it the stack's webhook port: one process can hold it.
   */
  startWatcher(options?: Pick<WatcherOptions, 'alertWebhookPort'>): Promise<PolicyWatcher>;
  /** Stops the worker; `restartWorker` brings a new one up on the same task queue. */
  stopWorker(): Promise<void>;
  restartWorker(): Promise<void>;
}

/**
 * Registers hooks that bring KubeMedic up for this test file and take it down afterwards.
 * With `inProcessWorker: false` no worker runs in the test process (a test then runs worker
 * processes of its own, as crash tests do).
 */
export function useKubeMedic({
  inProcessWorker = true,
  workerOptions = {} as Partial<
    Pick<
      WorkerOptions,
      'globalLimits' | 'maxConcurrentPerNamespace' | 'protectedNamespaces' | 'requireServiceAccount'
    >
  >,
} = {}): KubeMedic {
  const connections: { close(): Promise<void> }[] = [];
  const watchers: PolicyWatcher[] = [];
  let running: Promise<void> | undefined;
  const medic = { cluster: `test-${randomBytes(3).toString('hex')}` } as KubeMedic;
  testRun = medic.cluster;

  const startWorker = async () => {
    const connection = await NativeConnection.connect({ address: environment().TEMPORAL_ADDRESS });
    connections.push(connection);
    const identities = await chartIdentities();
    medic.worker = await createWorker({
      connection,
      namespace: environment().TEMPORAL_NAMESPACE,
      taskQueue: taskQueueFor(medic.cluster),
      kubeconfig: identities.worker,
      ownNamespace: identities.namespace,
      prometheusUrl: environment().PROMETHEUS_URL,
      alertmanagerUrl: environment().ALERTMANAGER_URL,
      shutdownGraceTime: '2 seconds',
      ...workerOptions,
    });
    running = medic.worker.run();
  };

  before(async () => {
    await ensureStack();
    await installCrds(kubeconfig());
    ({ workerKubeconfigFile } = await chartIdentities());
    const connection = await Connection.connect({ address: environment().TEMPORAL_ADDRESS });
    connections.push(connection);
    medic.client = new Client({ connection, namespace: environment().TEMPORAL_NAMESPACE });
    if (inProcessWorker) await startWorker();
  });
  medic.startWatcher = async ({ alertWebhookPort } = {}) => {
    const watcher = new PolicyWatcher({
      kubeconfig: (await chartIdentities()).watcher,
      client: medic.client,
      cluster: medic.cluster,
      prometheusUrl: environment().PROMETHEUS_URL,
      tickMs: 200,
      // Only this file's policies: files run one after another, but a watcher must never act
      // on another file's targets with this file's worker.
      policySelector: `${testRunLabel}=${medic.cluster}`,
      requireServiceAccount: workerOptions.requireServiceAccount,
      log: () => undefined,
      alertWebhookPort,
    });
    await watcher.start();
    watchers.push(watcher);
    return watcher;
  };
  medic.stopWorker = async () => {
    if (medic.worker?.getState() === 'RUNNING') medic.worker.shutdown();
    await running;
  };
  medic.restartWorker = startWorker;
  after(async () => {
    await Promise.all(watchers.map((w) => w.stop()));
    await medic.stopWorker();
    for (const connection of connections) await connection.close();
  });
  return medic;
}

/** Policies carry the test file's run, so its watchers evaluate only its own. */
export const testRunLabel = 'kubemedic.io/test-run';
let testRun = 'none';

/** Cluster policies outlive the test namespace, so the file that made them deletes them. */
const clusterPolicies: string[] = [];
after(async () => {
  const api = kubeconfig().makeApiClient(CustomObjectsApi);
  const { plural } = policyKinds.ClusterRemediationPolicy;
  for (const name of clusterPolicies) {
    await api.deleteClusterCustomObject({ group, version, plural, name }).catch(() => undefined);
  }
});

/** Creates a policy of either kind; `spec` is written as given, so tests can send bad input too. */
export async function createPolicy(
  kind: PolicyKind,
  metadata: { name: string; namespace?: string },
  spec: unknown,
) {
  const api = kubeconfig().makeApiClient(CustomObjectsApi);
  const { plural } = policyKinds[kind];
  const labels = { [testRunLabel]: testRun };
  const body = { apiVersion: `${group}/${version}`, kind, metadata: { ...metadata, labels }, spec };
  if (metadata.namespace) {
    return api.createNamespacedCustomObject({ group, version, plural, namespace: metadata.namespace, body });
  }
  clusterPolicies.push(metadata.name);
  return api.createClusterCustomObject({ group, version, plural, body });
}

export async function readPolicy(kind: PolicyKind, metadata: { name: string; namespace?: string }) {
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
export async function startRunNow(
  medic: KubeMedic,
  policy: { name: string; namespace?: string },
  target: TargetRef,
) {
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

/**
 * A condition on Deployment availability: with threshold 1 it holds while the Deployment is
 * unavailable (so verification passes once KWOK runs its Pods); with threshold 0 it always
 * holds (so verification always fails).
 */
export const deploymentUnavailable = (name: string, threshold: 0 | 1) => ({
  name,
  source: 'Kubernetes',
  kubernetes: { state: 'DeploymentUnavailable' },
  operator: '>=',
  threshold,
});

const workerProcesses: ChildProcess[] = [];
/** The chart's worker identity as a kubeconfig file, set by useKubeMedic's `before`. */
let workerKubeconfigFile: string | undefined;
after(() => workerProcesses.forEach((worker) => worker.kill('SIGKILL')));

/**
 * The worker exactly as it runs in production: worker/main.ts in a process of its own, for the
 * tests that kill it. One process (node with the tsx loader), not the tsx CLI, which would run
 * node as a child that SIGKILL of the parent leaves alive.
 */
export function spawnWorkerProcess(cluster: string): ChildProcess {
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
      KUBEMEDIC_METRICS_PORT: '0',
    },
    stdio: 'ignore',
  });
  workerProcesses.push(worker);
  return worker;
}

/**
 * The demo `npm run demo` (and `kubemedic demo`) runs on the local stack: KubeMedic's worker and
 * policy watcher as real processes, Deployments whose error ratio the demo writes into the real
 * Prometheus, and one policy each that scales on it. "checkout" heals once scaled: the run
 * verifies and succeeds. "payments" stays sick: verification fails and the run rolls the
 * Deployment back to exactly what it was. "ledger" is protected: the run refuses to touch it and
 * says why. Every step is printed with the Web UI link, and every notification the policies send
 * to the demo's own webhook receiver is printed as it arrives.
 */
import { AppsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { Client, Connection, type WorkflowHandle, WorkflowNotFoundError } from '@temporalio/client';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { group, policyKinds, version } from '../api/index.ts';
import { statusQuery } from '../domain/messages.ts';
import { type RemediationResult, remediationWorkflowId } from '../domain/run.ts';
import { demoPolicyLabel, startKubeMedicProcesses, stopKubeMedicProcesses } from './kubemedic-processes.ts';
import { remoteWrite } from './remote-write.ts';
import { createServiceAccount } from './service-accounts.ts';
import { environment, loadKubeconfig, up } from './stack.ts';

export const demoNamespace = 'kubemedic-demo';
export const demoCluster = 'demo';

interface Scenario {
  deployment: string;
  story: string;
  healsWhenScaled: boolean;
  labels?: Record<string, string>;
  /** What the run must end in; anything else means the demo found a bug. */
  expected: RemediationResult['outcome'];
}

const scenarios: Scenario[] = [
  {
    deployment: 'checkout',
    story: 'gets sick, is scaled up, and heals',
    healsWhenScaled: true,
    expected: 'Succeeded',
  },
  {
    deployment: 'payments',
    story: 'gets sick, is scaled up, stays sick, and is rolled back',
    healsWhenScaled: false,
    expected: 'RolledBack',
  },
  {
    deployment: 'ledger',
    story: 'is labelled kubemedic.io/protected=true: it gets sick, and KubeMedic refuses to touch it',
    healsWhenScaled: false,
    labels: { 'kubemedic.io/protected': 'true' },
    expected: 'Skipped',
  },
];
const errorRatio = 'demo_http_error_ratio';

export interface DemoOptions {
  log: (line: string) => void;
  /** Leave the worker and watcher running afterwards (the command line does; tests do not). */
  keepRunning?: boolean;
}

export interface DemoRun {
  deployment: string;
  workflowId: string;
  outcome: RemediationResult['outcome'];
  reason: string;
  replicasBefore: number;
  replicasAfter: number;
  expected: RemediationResult['outcome'];
}

export async function runDemo({ log, keepRunning = false }: DemoOptions): Promise<DemoRun[]> {
  await up(log);
  const kubeconfig = loadKubeconfig();
  const connection = await Connection.connect({ address: environment().TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: environment().TEMPORAL_NAMESPACE });
  await startKubeMedicProcesses(demoCluster, log);
  const receiver = await receiveNotifications(log);
  try {
    await resetNamespace(kubeconfig);
    const runs: DemoRun[] = [];
    for (const [index, scenario] of scenarios.entries()) {
      log(`\nScenario ${index + 1}: "${scenario.deployment}" ${scenario.story}.`);
      runs.push(await play(kubeconfig, client, scenario, receiver.url, log));
    }
    log(`\nAll runs of the demo in the Web UI: ${runsLink()}`);
    for (const run of runs) {
      log(
        `Why did ${run.deployment} end ${run.outcome}? npm run --silent kubemedic -- explain '${run.workflowId}' --cluster ${demoCluster}`,
      );
    }
    return runs;
  } finally {
    receiver.close();
    await connection.close();
    if (keepRunning)
      log(`\nThe worker and watcher keep running; \`npm run devstack -- down\` stops everything.`);
    else await stopKubeMedicProcesses(log);
  }
}

async function play(
  kubeconfig: KubeConfig,
  client: Client,
  { deployment, healsWhenScaled, labels = {}, expected }: Scenario,
  notificationUrl: string,
  log: (line: string) => void,
): Promise<DemoRun> {
  const policy = `${deployment}-error-rate`;
  await reportErrorRatio(deployment, 0.001);
  await createDeployment(kubeconfig, deployment, 2, labels);
  await createScalePolicy(kubeconfig, policy, deployment, notificationUrl);
  log(
    `  ${deployment}: 2 replicas, error ratio 0.1%; policy ${policy} scales it ×2 when the ratio is above 5%`,
  );

  const sickSince = new Date();
  await reportErrorRatio(deployment, 0.2);
  log(`  ${deployment}: error ratio rises to 20%`);
  const workflowId = remediationWorkflowId(
    demoCluster,
    { kind: 'Deployment', namespace: demoNamespace, name: deployment },
    { kind: 'RemediationPolicy', namespace: demoNamespace, name: policy },
  );
  // The ID is per target and policy, so an earlier demo's run may hold it: wait for a new one.
  const runId = await until(`the remediation of ${deployment} to start`, () =>
    runStartedSince(client, workflowId, sickSince),
  );
  const handle = client.workflow.getHandle(workflowId, runId);
  let phase = await phaseOf(handle);
  log(`  remediation started: ${workflowId}`);
  log(`  watch it: ${runLink(workflowId)}`);
  log(`  phase ${phase}`);
  while (!['CoolingDown', 'Succeeded', 'RolledBack', 'Failed', 'Skipped'].includes(phase)) {
    const next = await until(`the next phase after ${phase}`, async () => {
      const now = await phaseOf(handle);
      return now !== phase ? now : undefined;
    });
    phase = next ?? phase;
    log(`  phase ${phase}`);
    if (phase === 'Verifying' && healsWhenScaled) {
      await reportErrorRatio(deployment, 0.002);
      log(`  ${deployment}: with twice the replicas the error ratio falls to 0.2%`);
    } else if (phase === 'Verifying') {
      log(`  ${deployment}: the error ratio stays at 20%`);
    }
  }
  if (!healsWhenScaled) {
    // Before the cooldown ends, or the policy would try again (as it should while the target is sick).
    await reportErrorRatio(deployment, 0.001);
    log(`  (someone fixes ${deployment} by hand; its error ratio falls back to 0.1%)`);
  }
  const result = (await handle.result()) as RemediationResult;
  const replicasAfter = (await readReplicas(kubeconfig, deployment)) ?? 0;
  log(`  outcome ${result.outcome}: ${result.reason}`);
  log(`  ${deployment} now has ${replicasAfter} replicas`);
  return {
    expected,
    deployment,
    workflowId,
    outcome: result.outcome,
    reason: result.reason,
    replicasBefore: 2,
    replicasAfter,
  };
}

const reportErrorRatio = (deployment: string, value: number) =>
  remoteWrite([{ labels: { __name__: errorRatio, namespace: demoNamespace, deployment }, value }]);

const phaseOf = async (handle: WorkflowHandle) => (await handle.query(statusQuery)).phase;

/** The run ID of the workflow's run when it started at or after `since`. */
async function runStartedSince(client: Client, workflowId: string, since: Date): Promise<string | undefined> {
  try {
    const run = await client.workflow.getHandle(workflowId).describe();
    return run.startTime >= since ? run.runId : undefined;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`demo: gave up waiting for ${what} after ${timeoutMs / 1000}s`);
    await sleep(250);
  }
}

/** A fresh namespace: the previous demo's Deployments and policies are deleted, not reused. */
async function resetNamespace(kubeconfig: KubeConfig): Promise<void> {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const exists = await core.readNamespace({ name: demoNamespace }).then(
    () => true,
    () => false,
  );
  if (exists) {
    await core.deleteNamespace({ name: demoNamespace });
    await until('the previous demo namespace to be deleted', () =>
      core.readNamespace({ name: demoNamespace }).then(
        () => undefined,
        () => true,
      ),
    );
  }
  await core.createNamespace({ body: { metadata: { name: demoNamespace } } });
  await createDemoServiceAccount(kubeconfig);
}

/**
 * The ServiceAccount the demo's policies act as: KubeMedic requires a namespaced policy to name
 * one (requireServiceAccount): the demo's Scale action needs exactly get and patch on the
 * namespace's Deployments (its guards read HPAs and quotas as KubeMedic itself), and its
 * notifications read their sink's Secret.
 */
const demoServiceAccount = 'kubemedic-demo';
const createDemoServiceAccount = (kubeconfig: KubeConfig) =>
  createServiceAccount(kubeconfig, demoNamespace, demoServiceAccount, [
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] },
    // A namespaced policy's sink URLs are Secrets of its namespace, read as its ServiceAccount.
    { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  ]);

async function createDeployment(
  kubeconfig: KubeConfig,
  name: string,
  replicas: number,
  extraLabels: Record<string, string>,
): Promise<void> {
  const apps = kubeconfig.makeApiClient(AppsV1Api);
  const labels = { app: name };
  await apps.createNamespacedDeployment({
    namespace: demoNamespace,
    body: {
      metadata: { name, labels: { ...labels, ...extraLabels } },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'app', image: `example.com/${name}:1.0` }] },
        },
      },
    },
  });
  await until(`${name} to be Available`, async () => {
    const status = (await apps.readNamespacedDeployment({ namespace: demoNamespace, name })).status;
    const available = status?.conditions?.find((c) => c.type === 'Available')?.status === 'True';
    return available && status?.readyReplicas === replicas ? true : undefined;
  });
}

const readReplicas = async (kubeconfig: KubeConfig, name: string) =>
  (await kubeconfig.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: demoNamespace, name }))
    .spec?.replicas;

async function createScalePolicy(
  kubeconfig: KubeConfig,
  name: string,
  deployment: string,
  notificationUrl: string,
): Promise<void> {
  // A sink's URL is never written in a policy (it would sit in every run's history): a Secret holds it.
  const sinkSecret = `${name}-sink`;
  await kubeconfig.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: demoNamespace,
    body: { metadata: { name: sinkSecret }, stringData: { url: notificationUrl } },
  });
  await kubeconfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group,
    version,
    plural: policyKinds.RemediationPolicy.plural,
    namespace: demoNamespace,
    body: {
      apiVersion: `${group}/${version}`,
      kind: 'RemediationPolicy',
      metadata: { name, labels: { [demoPolicyLabel]: 'true' } },
      spec: {
        target: { kind: 'Deployment', name: deployment },
        serviceAccountName: demoServiceAccount,
        evaluationInterval: '2s',
        conditions: [
          {
            name: 'error-ratio',
            source: 'Prometheus',
            prometheus: { query: `${errorRatio}{namespace="${demoNamespace}", deployment="${deployment}"}` },
            operator: '>',
            threshold: 0.05,
            for: '4s',
          },
        ],
        actions: [{ type: 'Scale', scale: { factor: 2, maxReplicas: 6 } }],
        verification: { settle: '6s' },
        cooldown: '5s',
        notifications: [{ type: 'Webhook', urlSecretRef: { name: sinkSecret, key: 'url' } }],
      },
    },
  });
}

/** A webhook sink on a free local port that prints each notification KubeMedic sends. */
async function receiveNotifications(log: (line: string) => void): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const note = JSON.parse(body) as { event?: string; target?: { name?: string }; reason?: string };
      log(`  notification received: ${note.event} for ${note.target?.name}: ${note.reason}`);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/kubemedic`, close: () => server.close() };
}

const ui = () => `${environment().TEMPORAL_UI_URL}/namespaces/${environment().TEMPORAL_NAMESPACE}`;
const runLink = (workflowId: string) => `${ui()}/workflows/${encodeURIComponent(workflowId)}`;
const runsLink = () => `${ui()}/workflows?query=${encodeURIComponent(`KubeMedicCluster="${demoCluster}"`)}`;

/**
 * Every policy in examples/ on the real stack. For each file (the test lists the directory, so an
 * example without a case here fails):
 * Given the example, pointed at a fixture of this test's namespace,
 * Then the real API server admits it (strict field validation: no unknown or misspelt field is
 * pruned silently) and the real policy watcher marks it Ready;
 * When its conditions are made to hold for real — the exact series its PromQL reads written into
 * the real Prometheus, or the Kubernetes state written as a kubelet would —
 * Then the watcher starts a run and its first action changes the cluster as the example says.
 *
 * The example is sent as written except for its namespace, its target (name or selector) and
 * its durations, which are shortened so a case takes seconds (see `shortDurations`; the CPU case
 * also shortens its rate window, and says why).
 */
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { group, policyKinds, type PolicyKind, version } from '../../api/policy.ts';
import { repoRoot } from '../../devstack/config.ts';
import { remoteWrite, type Sample } from '../../devstack/remote-write.ts';
import { kwokCustomStatusAnnotation } from '../../devstack/servers.ts';
import { approveUpdate, statusQuery } from '../../domain/messages.ts';
import type { RemediationResult, TargetRef } from '../../domain/run.ts';
import { readPolicy } from '../support/kubemedic.ts';
import type { RunHandle } from '../support/scale-runs.ts';
import { useScenario } from '../support/scenario.ts';
import { eventually, kubeconfig } from '../support/stack.ts';
import { useTestNodes } from '../support/test-nodes.ts';
import {
  createHpa,
  createAvailableDeployment,
  createDeployment,
  readDeployment,
  waitForRunningPods,
} from '../support/workloads.ts';

// As KubeMedic runs by default: every RemediationPolicy acts as a ServiceAccount of its namespace.
const { namespace, medic, scenario } = useScenario('kme', { workerOptions: { requireServiceAccount: true } });
const apps = () => kubeconfig().makeApiClient(AppsV1Api);
const core = () => kubeconfig().makeApiClient(CoreV1Api);
const hpas = () => kubeconfig().makeApiClient(AutoscalingV2Api);
const custom = () => kubeconfig().makeApiClient(CustomObjectsApi);
const strategicMerge = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

const examplesDir = join(repoRoot, 'examples');

interface Example {
  kind: PolicyKind;
  metadata: { name: string; namespace?: string };
  spec: Record<string, unknown> & { target: Record<string, unknown> };
}

/** What a case's fixture gives the policy to point at. */
interface Fixture {
  /** Replaces the example's target.name or target.selector (whichever it has). */
  name?: string;
  selector?: { matchLabels: Record<string, string> };
  /** The object the first run is for. */
  target: TargetRef;
}

interface ExampleCase {
  /** Durations this case needs other than `shortDurations` (each says why). */
  durations?: Partial<typeof shortDurations> & { window?: string };
  /** Creates the fixture the example is pointed at. */
  given(): Promise<Fixture>;
  /** Makes the example's conditions hold, for real. */
  when(fixture: Fixture): Promise<void>;
  /** The first action's effect on the cluster, while the run is on; then the run's end. */
  then(fixture: Fixture, run: Run): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Durations: the only change to an example besides where it points. Waits of minutes and hours
// become seconds; conditions still must hold for their (shorter) `for`, runs still settle
// before verifying, revertAfter still reverts through its durable timer. Rate windows stay as
// written unless a case's `durations` says otherwise, and why.
const shortDurations = {
  evaluationInterval: '1s',
  for: '2s',
  settle: '5s',
  after: '3s',
  interval: '2s',
  // Long enough for the test to see the run cool down and delete the policy before a
  // condition that still holds starts another run.
  cooldown: '5s',
};

/** The duration fields of a policy spec. */
interface Durations {
  evaluationInterval?: string;
  cooldown?: string;
  conditions?: { for?: string; prometheus?: { window?: string } }[];
  verification?: { settle?: string; conditions?: { for?: string }[] };
  revertAfter?: { after?: string; interval?: string };
}

function shortened(spec: Example['spec'], overrides: ExampleCase['durations'] = {}): Example['spec'] {
  const short = { ...shortDurations, ...overrides };
  const copy = structuredClone(spec) as Example['spec'] & Durations;
  const shortenFor = (conditions: { for?: string }[] | undefined) =>
    conditions?.forEach((c) => c.for && (c.for = short.for));
  if (copy.evaluationInterval) copy.evaluationInterval = short.evaluationInterval;
  if (copy.cooldown) copy.cooldown = short.cooldown;
  shortenFor(copy.conditions);
  shortenFor(copy.verification?.conditions);
  copy.conditions?.forEach(
    (c) => c.prometheus?.window && short.window && (c.prometheus.window = short.window),
  );
  if (copy.verification?.settle) copy.verification.settle = short.settle;
  if (copy.revertAfter?.after) copy.revertAfter.after = short.after;
  if (copy.revertAfter?.interval) copy.revertAfter.interval = short.interval;
  return copy;
}

/** The example pointed at the fixture: its namespace and target replaced, its durations shortened. */
function pointed(example: Example, fixture: Fixture, durations: ExampleCase['durations']): Example {
  const spec = shortened(example.spec, durations);
  if ('name' in spec.target) spec.target.name = fixture.name;
  if ('selector' in spec.target) spec.target.selector = fixture.selector;
  assert.ok(spec.target.name ?? spec.target.selector, 'the fixture gives the target the example names');
  const metadata = { name: example.metadata.name };
  return {
    ...example,
    metadata: example.kind === 'RemediationPolicy' ? { ...metadata, namespace: namespace.name } : metadata,
    spec,
  };
}

// ---------------------------------------------------------------------------------------------
// Prometheus series, exactly as cAdvisor and kube-state-metrics expose what the shorthands read
// (activities/conditions/promql.ts). A counter is written as two samples a minute apart, so
// rate() over the example's window sees it rise; a gauge as one sample now.

const podsOf = async (app: string) =>
  (await core().listNamespacedPod({ namespace: namespace.name, labelSelector: `app=${app}` })).items
    .filter((p) => !p.metadata?.deletionTimestamp)
    .map((p) => p.metadata!.name!);

function counter(labels: Record<string, string>, perSecond: number): Sample[] {
  const now = Date.now();
  return [
    { labels, value: 1000, timestampMs: now - 60_000 },
    { labels, value: 1000 + perSecond * 60, timestampMs: now },
  ];
}

const podLabels = (pod: string, name: string, more: Record<string, string> = {}) => ({
  __name__: name,
  namespace: namespace.name,
  pod,
  ...more,
});

/** kube-state-metrics' CPU requests of a fixture Pod: 100m. */
const cpuRequests = (pod: string): Sample => ({
  labels: podLabels(pod, 'kube_pod_container_resource_requests', {
    container: 'app',
    resource: 'cpu',
    unit: 'core',
  }),
  value: 0.1,
});

/** Each Pod of `app` uses `cores` CPU per second, against requests of 100m (the fixture's). */
async function writeCpu(app: string, cores: number): Promise<void> {
  const pods = await podsOf(app);
  await remoteWrite(
    pods.flatMap((pod) => [
      ...counter(podLabels(pod, 'container_cpu_usage_seconds_total', { container: 'app' }), cores),
      cpuRequests(pod),
    ]),
  );
}

/**
 * A CPU load of `totalCores` shared evenly by the running Pods of `app`, as cAdvisor would
 * report it: every 2s each Pod's counter grows by its share, and its requests are written.
 */
function startCpuLoad(app: string, totalCores: number) {
  const counters = new Map<string, number>();
  let ticks = 0;
  let last = Date.now();
  let stopped = false;
  const tick = async () => {
    const pods = await podsOf(app);
    const now = Date.now();
    const share = (totalCores * (now - last)) / 1000 / Math.max(1, pods.length);
    last = now;
    await remoteWrite(
      pods.flatMap((pod) => {
        counters.set(pod, (counters.get(pod) ?? 1000) + share);
        return [
          {
            labels: podLabels(pod, 'container_cpu_usage_seconds_total', { container: 'app' }),
            value: counters.get(pod)!,
            timestampMs: now,
          },
          cpuRequests(pod),
        ];
      }),
    );
    ticks++;
  };
  const loop = (async () => {
    while (!stopped) {
      await tick();
      await sleep(2_000);
    }
  })();
  return {
    /** Waits until `count` more rounds of samples are written. */
    written: (count: number) => {
      const target = ticks + count;
      return eventually(`${count} CPU samples of ${app}`, async () => (ticks >= target ? true : undefined));
    },
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
let cpuLoad: ReturnType<typeof startCpuLoad> | undefined;
after(() => cpuLoad?.stop());

/** Each Pod of `app` answers `perSecond` requests a second, `errorShare` of them with a 500. */
async function writeRequests(app: string, perSecond: number, errorShare: number): Promise<void> {
  const pods = await podsOf(app);
  await remoteWrite(
    pods.flatMap((pod) => [
      ...counter(podLabels(pod, 'http_requests_total', { code: '500' }), perSecond * errorShare),
      ...counter(podLabels(pod, 'http_requests_total', { code: '200' }), perSecond * (1 - errorShare)),
    ]),
  );
}

/** The memory working set of each Pod of `app` as a share of its limit; `hot` Pods run at 95%. */
async function writeMemory(app: string, limitBytes: number, hot: string[]): Promise<void> {
  const pods = await podsOf(app);
  await remoteWrite(
    pods.flatMap((pod) => [
      {
        labels: podLabels(pod, 'container_memory_working_set_bytes', { container: 'app' }),
        value: (hot.includes(pod) ? 0.95 : 0.3) * limitBytes,
      },
      {
        labels: podLabels(pod, 'kube_pod_container_resource_limits', {
          container: 'app',
          resource: 'memory',
          unit: 'byte',
        }),
        value: limitBytes,
      },
    ]),
  );
}

/** kube-state-metrics' view of the HPA `name` that scales Deployment `name`. */
async function writeHpa(name: string, currentReplicas: number, maxReplicas: number): Promise<void> {
  const hpa = { namespace: namespace.name, horizontalpodautoscaler: name };
  await remoteWrite([
    {
      labels: { __name__: 'kube_horizontalpodautoscaler_status_current_replicas', ...hpa },
      value: currentReplicas,
    },
    { labels: { __name__: 'kube_horizontalpodautoscaler_spec_max_replicas', ...hpa }, value: maxReplicas },
    {
      labels: {
        __name__: 'kube_horizontalpodautoscaler_info',
        ...hpa,
        scaletargetref_api_version: 'apps/v1',
        scaletargetref_kind: 'Deployment',
        scaletargetref_name: name,
      },
      value: 1,
    },
  ]);
}

// ---------------------------------------------------------------------------------------------
// The run the watcher starts, and its end.

interface Run {
  example: Example;
  workflowId: string;
  handle: RunHandle;
}

const stepsOf = (result: RemediationResult) => result.steps.map((s) => s.action);

/**
 * Waits for the run to record its outcome in the policy status, then deletes the policy (during
 * the run's cooldown: a condition that still holds would start another run once it ends), and
 * answers the run's result.
 */
async function ended(run: Run): Promise<RemediationResult> {
  await eventually(
    `${run.workflowId} to record its outcome`,
    async () => {
      const status = (await readPolicy(run.example.kind, run.example.metadata)).status as
        { lastOutcome?: { workflowId: string } } | undefined;
      return status?.lastOutcome?.workflowId === run.workflowId ? true : undefined;
    },
    120_000,
  );
  await deletePolicy(run.example);
  return run.handle.result();
}

async function deletePolicy({ kind, metadata: { name, namespace: policyNamespace } }: Example) {
  const { plural } = policyKinds[kind];
  await (policyNamespace
    ? custom().deleteNamespacedCustomObject({ group, version, plural, namespace: policyNamespace, name })
    : custom().deleteClusterCustomObject({ group, version, plural, name }));
}

/** The API server's verdict on the policy with strict field validation, nothing stored. */
async function admit({ kind, metadata, spec }: Example): Promise<void> {
  const { plural } = policyKinds[kind];
  const body = { apiVersion: `${group}/${version}`, kind, metadata, spec };
  const options = { group, version, plural, body, dryRun: 'All', fieldValidation: 'Strict' };
  await (metadata.namespace
    ? custom().createNamespacedCustomObject({ ...options, namespace: metadata.namespace })
    : custom().createClusterCustomObject(options));
}

async function isReady(example: Example): Promise<true | undefined> {
  const status = (await readPolicy(example.kind, example.metadata)).status as
    { conditions?: { type: string; status: string }[] } | undefined;
  return status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
}

// ---------------------------------------------------------------------------------------------
// Kubernetes state a kubelet would report: KWOK leaves the status of objects annotated
// `kwok.x-k8s.io/status: custom` to the test, and never finalizes such Pods when deleted.

/** Custom-status Pods stay Terminating after a delete: remove them, or the namespace never goes. */
after(async () => {
  if (!namespace.name) return;
  for (const pod of (await core().listNamespacedPod({ namespace: namespace.name })).items) {
    if (pod.metadata?.annotations?.[kwokCustomStatusAnnotation])
      await forceDelete(pod).catch(() => undefined);
  }
});

const forceDelete = (pod: V1Pod) =>
  core().deleteNamespacedPod({ name: pod.metadata!.name!, namespace: namespace.name, gracePeriodSeconds: 0 });

const customStatusPods = async (app: string) =>
  (await core().listNamespacedPod({ namespace: namespace.name, labelSelector: `app=${app}` })).items.filter(
    (p) => p.metadata?.annotations?.[kwokCustomStatusAnnotation] === 'custom',
  );

/** The Pod's container crash-looping, as its kubelet reports it. */
async function crashLoop(pod: V1Pod): Promise<void> {
  await core().patchNamespacedPodStatus({
    name: pod.metadata!.name!,
    namespace: namespace.name,
    body: [
      { op: 'add', path: '/status/phase', value: 'Running' },
      {
        op: 'add',
        path: '/status/containerStatuses',
        value: [
          {
            name: 'app',
            image: pod.spec!.containers[0]!.image,
            imageID: '',
            ready: false,
            started: false,
            restartCount: 5,
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: new Date() } },
            state: {
              waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' },
            },
          },
        ],
      },
    ],
  });
}

const testNodes = useTestNodes('kme-node');

const nodeReady = async (name: string) =>
  (await core().readNode({ name })).status?.conditions?.find((c) => c.type === 'Ready')?.status;
const isCordoned = async (name: string) => (await core().readNode({ name })).spec?.unschedulable === true;
const podsOn = async (name: string) =>
  (await core().listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name}` })).items;

/** A fake worker Node of this test's own, Ready; the policy selects it by hostname. */
async function readyNode(): Promise<Fixture> {
  const name = await testNodes.create();
  await eventually(`${name} Ready`, async () => ((await nodeReady(name)) === 'True' ? true : undefined));
  return { selector: { matchLabels: { 'kubernetes.io/hostname': name } }, target: { kind: 'Node', name } };
}

/**
 * The Node's kubelet stops posting status: KWOK lets go of it, and its Ready condition turns
 * Unknown as the node lifecycle controller writes it.
 */
async function nodeStopsReporting(name: string): Promise<void> {
  await core().patchNode(
    { name, body: { metadata: { annotations: { [kwokCustomStatusAnnotation]: 'custom' } } } },
    strategicMerge,
  );
  const now = new Date();
  const ready = {
    type: 'Ready',
    status: 'Unknown',
    reason: 'NodeStatusUnknown',
    message: 'Kubelet stopped posting node status.',
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  };
  await core().patchNodeStatus({ name, body: { status: { conditions: [ready] } } }, strategicMerge);
}

// ---------------------------------------------------------------------------------------------
// One case per example file.

const deploymentFixture = (name: string): Fixture => ({
  name,
  target: { kind: 'Deployment', namespace: namespace.name, name },
});

const replicasOf = async (name: string) => (await readDeployment(namespace.name, name)).spec?.replicas;

const cases: Record<string, ExampleCase> = {
  'cpu-scale-up-with-revert.yaml': {
    // For the CPU to fall within the test, the rate window is 20s instead of 5m, and the settle
    // 30s, so that the verification's window holds only samples from after the scale-up.
    durations: { window: '20s', settle: '30s' },
    async given() {
      // A Deployment of 2 whose Pods request 100m CPU
      await createAvailableDeployment(namespace.name, 'cpu-web', 2);
      return deploymentFixture('cpu-web');
    },
    // A load of 0.24 cores in all: shared by 2 Pods, 1.2 times their requests, above 0.8
    when: async () => {
      cpuLoad = startCpuLoad('cpu-web', 0.24);
      await cpuLoad.written(2);
    },
    async then({ target }, run) {
      // The replicas double, from 2 to 4; the same load on 4 Pods is 0.6 times their requests
      await eventually('the Deployment at 4 replicas', async () =>
        (await replicasOf(target.name)) === 4 ? true : undefined,
      );
      // Verification finds the CPU below 0.8; after revertAfter the replicas walk back to 2
      // in the example's 3 steps: 3, 3, then 2
      await eventually(
        'the first revert step, at 3 replicas',
        async () => ((await replicasOf(target.name)) === 3 ? true : undefined),
        120_000,
      );
      await eventually('the revert done, at 2 replicas', async () =>
        (await replicasOf(target.name)) === 2 ? true : undefined,
      );
      const result = await ended(run);
      assert.deepEqual(stepsOf(result), ['Scale']);
      assert.match(result.steps[0]!.executed!.summary, /from 2 to 4 replicas \(factor 2\)/);
      assert.equal(result.outcome, 'Succeeded', result.reason);
      assert.equal(result.steps[0]!.revert?.outcome, 'RolledBack', result.steps[0]!.revert?.reason);
      await cpuLoad!.stop();
    },
  },

  'memory-restart.yaml': {
    async given() {
      // A Deployment of 3 whose container has a memory limit of 256Mi; one of its Pods is `hot`
      await createDeployment(namespace.name, 'memory-web', 3, {
        containers: [
          {
            name: 'app',
            image: 'example.com/app:1',
            resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
          },
        ],
      });
      await waitForRunningPods(namespace.name, 'memory-web', 3);
      const [hot] = await podsOf('memory-web');
      return {
        selector: { matchLabels: { app: 'memory-web' } },
        target: { kind: 'Pod', namespace: namespace.name, name: hot! },
      };
    },
    // The hot Pod's working set is at 95% of its limit, the others at 30%
    when: ({ target }) => writeMemory('memory-web', 256 * 1024 ** 2, [target.name]),
    async then({ target }, run) {
      // That Pod, and only that one, is evicted; its Deployment replaces it
      await eventually(`${target.name} deleted`, async () =>
        (await podsOf('memory-web')).includes(target.name) ? undefined : true,
      );
      await waitForRunningPods(namespace.name, 'memory-web', 3);
      const result = await ended(run);
      assert.deepEqual(stepsOf(result), ['RestartPod']);
      assert.match(
        result.steps[0]!.executed!.summary,
        new RegExp(`^deleted Pod ${namespace.name}/${target.name} `),
      );
      // The restarted Pod is gone, which the example's onNoData: Pass counts as success
      assert.equal(result.outcome, 'Succeeded', result.reason);
      assert.match(result.reason, /the target is gone after the action; onNoData is Pass/);
    },
  },

  'crash-loop-rollback.yaml': {
    async given() {
      // A Deployment of 2 at revision 1 (app:1), then a release of app:2 whose Pod never
      // becomes ready (its status is the test's to write)
      await createAvailableDeployment(namespace.name, 'crash-web', 2);
      await apps().patchNamespacedDeployment(
        {
          name: 'crash-web',
          namespace: namespace.name,
          body: {
            spec: {
              template: {
                metadata: { annotations: { [kwokCustomStatusAnnotation]: 'custom' } },
                spec: { containers: [{ name: 'app', image: 'example.com/app:2' }] },
              },
            },
          },
        },
        strategicMerge,
      );
      await eventually('a Pod of the new release', async () =>
        (await customStatusPods('crash-web')).length > 0 ? true : undefined,
      );
      return deploymentFixture('crash-web');
    },
    // The new release's container crash-loops
    when: async () => {
      for (const pod of await customStatusPods('crash-web')) await crashLoop(pod);
    },
    async then({ target }, run) {
      // The Deployment is rolled back to revision 1's template: app:1, a Pod KWOK runs
      await eventually('the Deployment back at app:1', async () => {
        const template = (await readDeployment(namespace.name, target.name)).spec?.template;
        return template?.spec?.containers[0]?.image === 'example.com/app:1' &&
          !template.metadata?.annotations?.[kwokCustomStatusAnnotation]
          ? true
          : undefined;
      });
      // And the crash-looping Pod, deleted by its ReplicaSet, is finalized as its kubelet would
      await eventually('the crash-looping Pod deleted', async () => {
        const pods = await customStatusPods('crash-web');
        for (const pod of pods) if (pod.metadata?.deletionTimestamp) await forceDelete(pod);
        return pods.length === 0 ? true : undefined;
      });
      const result = await ended(run);
      assert.deepEqual(stepsOf(result), ['RollbackDeployment']);
      // Verification finds no Pod crash-looping any more
      assert.equal(result.outcome, 'Succeeded', result.reason);
      assert.deepEqual(result.steps[0]!.verdict!.readings, [
        { name: 'crash-looping', value: 0, holds: false },
      ]);
    },
  },

  'hpa-limits.yaml': {
    async given() {
      // A Deployment of 2 scaled by an HPA whose maxReplicas is 2
      await createAvailableDeployment(namespace.name, 'hpa-web', 2);
      await createHpa(namespace.name, 'hpa-web', 'hpa-web', 1, 2);
      return deploymentFixture('hpa-web');
    },
    // Its Pods use 3 times their CPU requests, and kube-state-metrics reports the HPA at its max
    when: async ({ target }) => {
      await writeCpu(target.name, 0.3);
      await writeHpa(target.name, 2, 2);
    },
    async then({ target }, run) {
      const hpaMax = async () =>
        (await hpas().readNamespacedHorizontalPodAutoscaler({ namespace: namespace.name, name: target.name }))
          .spec?.maxReplicas;
      // The HPA's maxReplicas goes up to 20
      await eventually('the HPA at maxReplicas 20', async () => ((await hpaMax()) === 20 ? true : undefined));
      // kube-state-metrics then reports the new ceiling: the HPA is no longer at its max, so
      // both conditions no longer hold and verification keeps the change
      await writeHpa(target.name, 2, 20);
      // And after revertAfter the ceiling is back at 2
      await eventually('the HPA back at maxReplicas 2', async () =>
        (await hpaMax()) === 2 ? true : undefined,
      );
      const result = await ended(run);
      assert.deepEqual(stepsOf(result), ['AdjustHPA']);
      assert.equal(result.outcome, 'Succeeded', result.reason);
      assert.equal(result.steps[0]!.revert?.outcome, 'RolledBack', result.steps[0]!.revert?.reason);
    },
  },

  'error-rate-scale-up.yaml': {
    async given() {
      await createAvailableDeployment(namespace.name, 'errors-web', 2);
      return deploymentFixture('errors-web');
    },
    // A quarter of its Pods' requests fail with a 500: above 5%
    when: ({ target }) => writeRequests(target.name, 4, 0.25),
    async then({ target }, run) {
      // The first rung doubles the replicas
      await eventually('the Deployment at 4 replicas', async () =>
        (await replicasOf(target.name)) === 4 ? true : undefined,
      );
      // The error series stay high, so the scale-up is rolled back and the next rung, a rolling
      // restart, stamps the Pod template
      await eventually('the rolling restart', async () =>
        (await readDeployment(namespace.name, target.name)).spec?.template.metadata?.annotations?.[
          'kubectl.kubernetes.io/restartedAt'
        ]
          ? true
          : undefined,
      );
      const result = await ended(run);
      assert.deepEqual(stepsOf(result), ['Scale', 'RolloutRestart']);
      assert.match(result.steps[0]!.executed!.summary, /from 2 to 4 replicas/);
      // Neither rung lowered the test's series (or the restarted Pods have none: onNoData Fail),
      // so the ladder ends with both rolled back
      assert.equal(result.outcome, 'RolledBack', result.reason);
      assert.equal(await replicasOf(target.name), 2);
    },
  },

  'node-cordon.yaml': {
    given: readyNode,
    when: ({ target }) => nodeStopsReporting(target.name),
    async then({ target: { name } }, run) {
      // The Node is cordoned
      await eventually(`${name} cordoned`, async () => ((await isCordoned(name)) ? true : undefined));
      const result = await ended(run);
      assert.deepEqual(stepsOf(result), ['CordonNode']);
      // With the example's empty verification list the cordon is kept
      assert.equal(result.outcome, 'Succeeded', result.reason);
      assert.equal(await isCordoned(name), true);
      assert.equal(await nodeReady(name), 'Unknown', 'the Node stayed NotReady throughout');
    },
  },

  'node-drain-with-approval.yaml': {
    async given() {
      // A Ready fake worker Node running one Pod
      const fixture = await readyNode();
      await core().createNamespacedPod({
        namespace: namespace.name,
        body: {
          metadata: { name: `on-${fixture.target.name}` },
          spec: {
            nodeName: fixture.target.name,
            tolerations: [{ key: 'kubemedic.io/test-node', operator: 'Exists', effect: 'NoSchedule' }],
            containers: [{ name: 'app', image: 'example.com/app:1' }],
          },
        },
      });
      await eventually('the Pod running on the Node', async () =>
        (await podsOn(fixture.target.name))[0]?.status?.phase === 'Running' ? true : undefined,
      );
      return fixture;
    },
    when: ({ target }) => nodeStopsReporting(target.name),
    async then({ target: { name } }, run) {
      // The run waits for approval, and nothing is touched meanwhile
      await eventually('the run to await approval', async () =>
        (await run.handle.query(statusQuery)).phase === 'AwaitingApproval' ? true : undefined,
      );
      assert.equal(await isCordoned(name), false, 'not cordoned before approval');
      assert.equal((await podsOn(name)).length, 1, 'no Pod evicted before approval');
      // When the person on call approves, as `kubemedic approve` does
      const decision = await run.handle.executeUpdate(approveUpdate, {
        args: [{ by: 'on-call', reason: 'the machine is gone' }],
      });
      assert.equal(decision.decision, 'approved');
      // Then the Node is cordoned and its Pod evicted
      await eventually(`${name} drained`, async () =>
        (await isCordoned(name)) && (await podsOn(name)).length === 0 ? true : undefined,
      );
      const result = await ended(run);
      assert.deepEqual(stepsOf(result), ['DrainNode']);
      assert.equal(result.outcome, 'Succeeded', result.reason);
    },
  },
};

const exampleFiles = readdirSync(examplesDir)
  .filter((file) => file.endsWith('.yaml'))
  .sort();

// One watcher for the whole file, started by the first example (after KubeMedic is up).
let watcher: Promise<unknown> | undefined;

/** examples/rbac/: the ServiceAccount the namespaced examples act as, applied to this test's namespace as written. */
async function applyExampleRbac(): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kubeconfig());
  for (const file of readdirSync(join(examplesDir, 'rbac')).filter((f) => f.endsWith('.yaml'))) {
    for (const document of parseAllDocuments(readFileSync(join(examplesDir, 'rbac', file), 'utf8'))) {
      const object = document.toJS() as KubernetesObject & { subjects?: { namespace?: string }[] };
      object.metadata = { ...object.metadata, namespace: namespace.name };
      for (const subject of object.subjects ?? []) subject.namespace = namespace.name;
      await api.create(object);
    }
  }
}

describe('examples/', () => {
  before(applyExampleRbac);

  it('every example has a case here', () => {
    assert.deepEqual(exampleFiles, Object.keys(cases).sort());
  });

  for (const file of exampleFiles) {
    it(
      `${file}: admitted, Ready, and its first action runs when its conditions hold`,
      { timeout: 240_000 },
      async (t) => {
        const s = scenario(t);
        const testCase = cases[file];
        assert.ok(testCase, `examples/${file} has no case in test/e2e/examples.test.ts`);
        watcher ??= medic.startWatcher();
        await watcher;

        // Given the example, pointed at its fixture
        const example = parse(readFileSync(join(examplesDir, file), 'utf8')) as Example & {
          apiVersion: string;
        };
        assert.equal(example.apiVersion, `${group}/${version}`);
        const fixture = await testCase.given();
        const policy = pointed(example, fixture, testCase.durations);
        // A cluster policy outlives a test run that was killed: this file's own name, left over
        if (policy.kind === 'ClusterRemediationPolicy') await deletePolicy(policy).catch(() => undefined);

        // Then the API server admits it with strict field validation, and stores it
        await admit(policy);
        await s.given.policyManifest(policy.kind, policy.metadata, policy.spec);
        // And the watcher marks it Ready
        await eventually(`${file} Ready`, () => isReady(policy));

        // When its conditions hold
        await testCase.when(fixture);

        // Then the watcher starts a run for the fixture, and its first action acts on the cluster
        await s.given.existing(fixture.target);
        await s.then.watcherStartsRun();
        await testCase.then(fixture, { example: policy, workflowId: s.run.workflowId, handle: s.run });
      },
    );
  }
});

/**
 * Kubernetes-state conditions read from plain Pod, Deployment, StatefulSet and Node objects (as
 * the watcher's informer caches and the verify activity hold them), compared with a threshold;
 * resource quantities as the metrics reader parses them. No server is involved.
 */
import {
  KubeConfig,
  type V1ContainerStatus,
  type V1Deployment,
  type V1Node,
  type V1Pod,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { condition, type Condition } from '../../api/policy.ts';
import { parseQuantity, readConditions, type TargetState } from '../../domain/conditions/readings.ts';

const now = new Date('2026-03-01T12:00:00Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);

/** A Kubernetes condition as the API server stores it, defaults applied. */
function kube(
  state: NonNullable<Condition['kubernetes']>['state'],
  operator: Condition['operator'],
  threshold: number,
  window?: string,
): Condition {
  return condition.parse({
    name: 'state',
    source: 'Kubernetes',
    kubernetes: window ? { state, window } : { state },
    operator,
    threshold,
  });
}

function pod(name: string, statuses: V1ContainerStatus[], phase = 'Running'): V1Pod {
  return {
    metadata: { name, namespace: 'shop' },
    status: { phase, containerStatuses: statuses },
  };
}

const container = (status: Partial<V1ContainerStatus>): V1ContainerStatus => ({
  name: 'app',
  image: 'example.com/app:1',
  imageID: '',
  ready: false,
  restartCount: 0,
  ...status,
});

const podTarget = (p: V1Pod): TargetState => ({
  ref: { kind: 'Pod', namespace: 'shop', name: p.metadata!.name! },
  object: p,
  pods: [p],
});

const deploymentTarget = (deployment: V1Deployment, pods: V1Pod[] = []): TargetState => ({
  ref: { kind: 'Deployment', namespace: 'shop', name: 'web' },
  object: deployment,
  pods,
});

const statefulSetTarget = (statefulSet: V1StatefulSet): TargetState => ({
  ref: { kind: 'StatefulSet', namespace: 'shop', name: 'db' },
  object: statefulSet,
  pods: [],
});

const nodeTarget = (node: V1Node): TargetState => ({
  ref: { kind: 'Node', name: node.metadata!.name! },
  object: node,
  pods: [],
});

/** The one reading of one condition for one target, read as the watcher reads it (no Prometheus). */
async function read(c: Condition, target: TargetState) {
  const readings = await readConditions([c], [target], {
    kubeconfig: new KubeConfig(),
    prometheusUrl: undefined,
    now,
  });
  const [reading, ...rest] = [...readings.values()].flat();
  assert.equal(rest.length, 0, 'one reading');
  assert.equal(reading?.name, 'state');
  return { value: reading!.value, holds: reading!.holds };
}

describe('Kubernetes state: Restarts', () => {
  const restarted = pod('web-1', [
    container({ restartCount: 3, lastState: { terminated: { exitCode: 1, finishedAt: ago(30) } } }),
    container({
      name: 'sidecar',
      restartCount: 2,
      lastState: { terminated: { exitCode: 1, finishedAt: ago(3600) } },
    }),
  ]);
  restarted.status!.initContainerStatuses = [container({ name: 'init', restartCount: 1 })];

  it('without a window sums every restart count, init containers too', async () => {
    assert.deepEqual(await read(kube('Restarts', '>=', 6), podTarget(restarted)), { value: 6, holds: true });
    assert.deepEqual(await read(kube('Restarts', '>', 6), podTarget(restarted)), { value: 6, holds: false });
  });

  it('with a window counts the containers whose last restart falls in it', async () => {
    // Only `app` finished within 5m; `sidecar` an hour ago; `init` has no termination recorded.
    assert.deepEqual(await read(kube('Restarts', '>=', 1, '5m'), podTarget(restarted)), {
      value: 1,
      holds: true,
    });
    assert.deepEqual(await read(kube('Restarts', '>=', 2, '5m'), podTarget(restarted)), {
      value: 1,
      holds: false,
    });
    assert.deepEqual(await read(kube('Restarts', '>=', 2, '2h'), podTarget(restarted)), {
      value: 2,
      holds: true,
    });
  });

  it('reads a workload through its Pods, and a Pod that never restarted as 0', async () => {
    const calm = pod('web-2', [container({ restartCount: 0 })]);
    const target = deploymentTarget({ metadata: { name: 'web' } }, [restarted, calm]);
    assert.deepEqual(await read(kube('Restarts', '>', 0), target), { value: 6, holds: true });
    assert.deepEqual(await read(kube('Restarts', '>', 0), podTarget(calm)), { value: 0, holds: false });
  });

  it('compares the worst Pod by default, and all Pods added up with per: Workload', async () => {
    const twice = (name: string) => pod(name, [container({ restartCount: 3 })]);
    const target = deploymentTarget({ metadata: { name: 'web' } }, [twice('web-1'), twice('web-2')]);
    assert.deepEqual(await read(kube('Restarts', '>', 4), target), { value: 3, holds: false });
    const workload = condition.parse({
      ...kube('Restarts', '>', 4),
      kubernetes: { state: 'Restarts', per: 'Workload' },
    });
    assert.deepEqual(await read(workload, target), { value: 6, holds: true });
  });
});

describe('Kubernetes state: CrashLoopBackOff', () => {
  it('counts the containers waiting in CrashLoopBackOff', async () => {
    const crashing = pod('web-1', [
      container({ restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } } }),
      container({ name: 'sidecar', state: { running: { startedAt: ago(60) } } }),
    ]);
    const pulling = pod('web-2', [container({ state: { waiting: { reason: 'ImagePullBackOff' } } })]);
    assert.deepEqual(await read(kube('CrashLoopBackOff', '>=', 1), podTarget(crashing)), {
      value: 1,
      holds: true,
    });
    assert.deepEqual(await read(kube('CrashLoopBackOff', '>=', 1), podTarget(pulling)), {
      value: 0,
      holds: false,
    });
    const target = deploymentTarget({ metadata: { name: 'web' } }, [crashing, pulling, crashing]);
    assert.deepEqual(await read(kube('CrashLoopBackOff', '>=', 2), target), { value: 2, holds: true });
  });
});

describe('Kubernetes state: OOMKilled', () => {
  const oom = (finishedAt: Date) => ({ terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt } });

  it('counts an OOMKilled last termination inside the window, not outside it', async () => {
    const recent = pod('web-1', [container({ restartCount: 1, lastState: oom(ago(60)) })]);
    const old = pod('web-2', [container({ restartCount: 1, lastState: oom(ago(3600)) })]);
    assert.deepEqual(await read(kube('OOMKilled', '>=', 1, '10m'), podTarget(recent)), {
      value: 1,
      holds: true,
    });
    assert.deepEqual(await read(kube('OOMKilled', '>=', 1, '10m'), podTarget(old)), {
      value: 0,
      holds: false,
    });
    // Without a window any recorded OOMKilled counts
    assert.deepEqual(await read(kube('OOMKilled', '>=', 1), podTarget(old)), { value: 1, holds: true });
  });

  it('counts a container OOMKilled now that was not restarted, once, and no other termination', async () => {
    const never = pod('job-1', [container({ state: oom(ago(10)) })], 'Failed');
    const both = pod('web-3', [container({ restartCount: 1, state: oom(ago(5)), lastState: oom(ago(60)) })]);
    const errored = pod('web-4', [
      container({ restartCount: 1, lastState: { terminated: { exitCode: 1, reason: 'Error' } } }),
    ]);
    assert.deepEqual(await read(kube('OOMKilled', '>=', 1, '1m'), podTarget(never)), {
      value: 1,
      holds: true,
    });
    assert.deepEqual(await read(kube('OOMKilled', '>=', 1, '10m'), podTarget(both)), {
      value: 1,
      holds: true,
    });
    assert.deepEqual(await read(kube('OOMKilled', '>', 0), podTarget(errored)), { value: 0, holds: false });
  });
});

describe('Kubernetes state: PodPending', () => {
  it("counts a workload's Pending Pods", async () => {
    const target = deploymentTarget({ metadata: { name: 'web' } }, [
      pod('web-1', [], 'Pending'),
      pod('web-2', [], 'Pending'),
      pod('web-3', [container({ state: { running: {} } })], 'Running'),
    ]);
    assert.deepEqual(await read(kube('PodPending', '>=', 1), target), { value: 2, holds: true });
    assert.deepEqual(await read(kube('PodPending', '>', 2), target), { value: 2, holds: false });
    assert.deepEqual(await read(kube('PodPending', '>=', 1), deploymentTarget({ metadata: {} }, [])), {
      value: 0,
      holds: false,
    });
  });
});

describe('Kubernetes state: DeploymentUnavailable', () => {
  const deployment = (available: 'True' | 'False' | undefined): V1Deployment => ({
    metadata: { name: 'web' },
    spec: { replicas: 2, selector: {}, template: {} },
    status: available ? { conditions: [{ type: 'Available', status: available }] } : {},
  });

  it('is 1 for a Deployment whose Available condition is not True', async () => {
    const c = kube('DeploymentUnavailable', '>=', 1);
    assert.deepEqual(await read(c, deploymentTarget(deployment('True'))), { value: 0, holds: false });
    assert.deepEqual(await read(c, deploymentTarget(deployment('False'))), { value: 1, holds: true });
    assert.deepEqual(await read(c, deploymentTarget(deployment(undefined))), { value: 1, holds: true });
  });

  it('is 1 for a StatefulSet with fewer ready replicas than it wants', async () => {
    const c = kube('DeploymentUnavailable', '>=', 1);
    const statefulSet = (replicas: number | undefined, readyReplicas: number | undefined): V1StatefulSet => ({
      metadata: { name: 'db' },
      spec: { replicas, selector: {}, serviceName: 'db', template: {} },
      status: { replicas: replicas ?? 1, readyReplicas },
    });
    assert.deepEqual(await read(c, statefulSetTarget(statefulSet(3, 3))), { value: 0, holds: false });
    assert.deepEqual(await read(c, statefulSetTarget(statefulSet(3, 2))), { value: 1, holds: true });
    assert.deepEqual(await read(c, statefulSetTarget(statefulSet(3, undefined))), { value: 1, holds: true });
    // spec.replicas defaults to 1
    assert.deepEqual(await read(c, statefulSetTarget(statefulSet(undefined, 1))), { value: 0, holds: false });
  });
});

describe('Kubernetes state: NodeNotReady', () => {
  const node = (ready: 'True' | 'False' | 'Unknown' | undefined): V1Node => ({
    metadata: { name: `node-${ready ?? 'none'}` },
    status: ready ? { conditions: [{ type: 'Ready', status: ready }] } : {},
  });

  it('is 1 for a Node whose Ready condition is not True', async () => {
    const c = kube('NodeNotReady', '==', 1);
    assert.deepEqual(await read(c, nodeTarget(node('True'))), { value: 0, holds: false });
    assert.deepEqual(await read(c, nodeTarget(node('False'))), { value: 1, holds: true });
    assert.deepEqual(await read(c, nodeTarget(node('Unknown'))), { value: 1, holds: true });
    assert.deepEqual(await read(c, nodeTarget(node(undefined))), { value: 1, holds: true });
  });
});

describe('a reading without data', () => {
  // Tables are rows with named fields, one test per row (so a failure names its row).
  const aPod = podTarget(pod('web-1', []));
  const aDeployment = deploymentTarget({ metadata: { name: 'web' } });
  const table: { case: string; condition: Condition; target: TargetState }[] = [
    // DeploymentUnavailable means nothing for a Pod, NodeNotReady nothing for a Deployment
    ...(['>', '>=', '<', '<=', '==', '!='] as const).map((op) => ({
      case: `DeploymentUnavailable ${op} 0 on a Pod`,
      condition: kube('DeploymentUnavailable', op, 0),
      target: aPod,
    })),
    {
      case: 'NodeNotReady != 1 on a Deployment',
      condition: kube('NodeNotReady', '!=', 1),
      target: aDeployment,
    },
    {
      case: 'NodeNotReady < 1 on a Deployment',
      condition: kube('NodeNotReady', '<', 1),
      target: aDeployment,
    },
  ];
  for (const row of table) {
    it(`never holds, whatever the operator and threshold: ${row.case}`, async () => {
      assert.deepEqual(await read(row.condition, row.target), { value: null, holds: false });
    });
  }

  it('answers for every target and condition in one call, in the order of the conditions', async () => {
    const crashing = pod('web-1', [
      container({ restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } } }),
    ]);
    const conditions = [
      { ...kube('CrashLoopBackOff', '>=', 1), name: 'crashing' },
      { ...kube('NodeNotReady', '>=', 1), name: 'node' },
      { ...kube('Restarts', '>', 3), name: 'restarts' },
    ];
    const readings = await readConditions(conditions, [podTarget(crashing), nodeTarget(node())], {
      kubeconfig: new KubeConfig(),
      prometheusUrl: undefined,
      now,
    });
    assert.deepEqual(Object.fromEntries(readings), {
      'Pod/shop/web-1': [
        { name: 'crashing', value: 1, holds: true },
        { name: 'node', value: null, holds: false },
        { name: 'restarts', value: 5, holds: true },
      ],
      'Node//node-1': [
        { name: 'crashing', value: 0, holds: false },
        { name: 'node', value: 0, holds: false },
        { name: 'restarts', value: 0, holds: false },
      ],
    });
    function node(): V1Node {
      return { metadata: { name: 'node-1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
    }
  });

  it('refuses a Prometheus condition when there is no Prometheus URL', async () => {
    const promql = condition.parse({
      name: 'load',
      source: 'Prometheus',
      prometheus: { query: 'up' },
      threshold: 1,
    });
    await assert.rejects(
      readConditions([promql], [podTarget(pod('web-1', []))], {
        kubeconfig: new KubeConfig(),
        prometheusUrl: undefined,
        now,
      }),
      /needs the Prometheus URL/,
    );
  });
});

describe('parseQuantity', () => {
  const table: { text: string; expected: number }[] = [
    { text: '250m', expected: 0.25 },
    { text: '1.5Gi', expected: 1.5 * 1024 ** 3 },
    { text: '100Ki', expected: 102_400 },
    { text: '2', expected: 2 },
    { text: '0', expected: 0 },
    { text: '12345678n', expected: 0.012345678 },
    { text: '500u', expected: 0.0005 },
    { text: '64Mi', expected: 64 * 1024 ** 2 },
    { text: '1k', expected: 1000 },
    { text: '2M', expected: 2e6 },
    { text: '3G', expected: 3e9 },
    { text: '1Ti', expected: 1024 ** 4 },
    { text: '1P', expected: 1e15 },
    { text: '1Pi', expected: 1024 ** 5 },
    { text: '1E', expected: 1e18 },
    { text: '1Ei', expected: 1024 ** 6 },
    { text: '1e3', expected: 1000 },
    { text: '1E3', expected: 1000 },
    { text: '5e-3', expected: 0.005 },
    { text: '.5', expected: 0.5 },
    { text: '1.', expected: 1 },
    { text: '+2', expected: 2 },
  ];
  for (const { text, expected } of table) {
    it(`reads the quantity ${text} as ${expected}`, () => {
      const value = parseQuantity(text);
      assert.ok(
        Math.abs(value - expected) <= Math.abs(expected) * 1e-12,
        `${text} = ${value}, not ${expected}`,
      );
    });
  }

  it('refuses what is not a quantity, never answering NaN', () => {
    for (const bad of [
      '',
      'abc',
      '1.2.3',
      '.',
      '1x',
      '1KB',
      '1ki',
      '1e',
      'Gi',
      '1 Gi',
      '1constructor',
      '--1',
    ]) {
      assert.throws(() => parseQuantity(bad), /is not a resource quantity/, JSON.stringify(bad));
    }
  });
});

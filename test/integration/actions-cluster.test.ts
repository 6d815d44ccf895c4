/**
 * The HPA, node, webhook and Job actions against the real local API server: each one changes
 * what it should, and its rollback restores exactly the backed-up fields or reports the
 * outcome it documents. No mocks: KWOK runs the pods, the controller-manager the Deployments,
 * ReplicaSets, DaemonSets, PodDisruptionBudgets and Jobs.
 */
import {
  AppsV1Api,
  AutoscalingV2Api,
  BatchV1Api,
  CoreV1Api,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1Deployment,
} from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Action } from '../../api/policy.ts';
import { ActionError, type ObjectRef, StepFailure, type TargetRef } from '../../domain/actions.ts';
import { adjustHPA } from '../../activities/actions/adjust-hpa.ts';
import { cordonNode } from '../../activities/actions/cordon-node.ts';
import { drainNode, type DrainExecuteResult } from '../../activities/actions/drain-node.ts';
import { managedLabel, runJob } from '../../activities/actions/run-job.ts';
import { webhook } from '../../activities/actions/webhook.ts';
import { readFields, readObject } from '../../activities/actions/fields.ts';
import { fakeNode } from '../../devstack/fake-nodes.ts';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';
import {
  actionContext,
  createDeployment as createWorkload,
  createHpa as createNamespacedHpa,
} from '../support/workloads.ts';
import { externalJobController, finishJob } from '../support/jobs.ts';
import { defaultProtectedNamespaces, protectedLabel } from '../../domain/protection.ts';

const namespace = useTestNamespace('kma');

const heartbeats: unknown[] = [];
const context = (dryRun = false) => actionContext(dryRun, heartbeats);

const unique = (prefix: string) => `${prefix}-${randomBytes(3).toString('hex')}`;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const isActionError = (type: ActionError['type'], message?: RegExp) => (error: unknown) =>
  error instanceof ActionError &&
  error.type === type &&
  (message === undefined || message.test(error.message));

/** A Deployment of `replicas` pods, optionally pinned to one node by its hostname label. */
function createDeployment(name: string, replicas = 1, node?: string): Promise<V1Deployment> {
  return createWorkload(namespace.name, name, replicas, {
    ...(node ? { nodeSelector: { 'kubernetes.io/hostname': node }, tolerations: [toleration(node)] } : {}),
    containers: [{ name, image: 'nginx:1.27' }],
  });
}

/**
 * Our fake nodes carry this taint, so that only the pods this file pins to them run there: the
 * scheduler would otherwise place other tests' pods on them, and a drain would evict those.
 */
const testTaint = (node: string) => ({ key: 'kubemedic.io/test-node', value: node, effect: 'NoSchedule' });
const toleration = (node: string) => ({ ...testTaint(node), operator: 'Equal' });

/** A KWOK-managed Node of this test's own (the shape of devstack/fake-nodes.ts), tainted, Ready. */
async function createFakeNode(name: string): Promise<void> {
  const core = kubeconfig().makeApiClient(CoreV1Api);
  await core.createNode({ body: { ...fakeNode(name), spec: { taints: [testTaint(name)] } } });
  await eventually(`node ${name} Ready`, async () => {
    const node = await core.readNode({ name });
    return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
  });
}

async function deleteNode(name: string): Promise<void> {
  await kubeconfig()
    .makeApiClient(CoreV1Api)
    .deleteNode({ name })
    .catch(() => undefined);
}

const nodeRef = (name: string): ObjectRef => ({ apiVersion: 'v1', kind: 'Node', name });
const hpaRef = (name: string): ObjectRef => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  namespace: namespace.name,
  name,
});

async function podsOn(node: string) {
  const list = await kubeconfig()
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace: namespace.name, fieldSelector: `spec.nodeName=${node}` });
  return list.items;
}

describe('AdjustHPA', () => {
  const deployment: TargetRef = { kind: 'Deployment', namespace: '', name: 'api' };
  const hpas = () => kubeconfig().makeApiClient(AutoscalingV2Api);
  const createHpa = (name: string, target: string, minReplicas: number, maxReplicas: number) =>
    createNamespacedHpa(namespace.name, name, target, minReplicas, maxReplicas);
  const adjust = (adjustHPA: Action['adjustHPA']): Action => ({ type: 'AdjustHPA', adjustHPA });

  before(async () => {
    deployment.namespace = namespace.name;
    await createDeployment('api');
    await createDeployment('lonely');
    await createHpa('api-hpa', 'api', 1, 5);
    await createDeployment('other');
    await createHpa('other-hpa', 'other', 2, 4);
  });

  it('finds the HPA that scales the target, sets its bounds, and rollback restores them exactly', async () => {
    // Given the HPA api-hpa (1..5) scales Deployment api, and the action names no HPA
    const action = adjust({ minReplicas: 2, maxReplicas: 10 });
    const backup = await adjustHPA.backup(context(), deployment, action);
    assert.deepEqual(backup.object, hpaRef('api-hpa'));
    assert.deepEqual(backup.fields, { '/spec/minReplicas': 1, '/spec/maxReplicas': 5 });

    // When it executes
    const executed = await adjustHPA.execute(context(), deployment, action, backup);

    // Then the HPA on the API server has the new bounds, owned by field manager kubemedic
    const hpa = await readObject(context(), hpaRef('api-hpa'));
    assert.deepEqual(readFields(hpa, ['/spec/minReplicas', '/spec/maxReplicas']), {
      '/spec/minReplicas': 2,
      '/spec/maxReplicas': 10,
    });
    const managers = (hpa.metadata as { managedFields: { manager: string; operation: string }[] })
      .managedFields;
    assert.ok(managers.some((m) => m.manager === 'kubemedic' && m.operation === 'Apply'));
    assert.deepEqual(executed.written, { '/spec/minReplicas': 2, '/spec/maxReplicas': 10 });
    assert.deepEqual(executed.changes, [
      { path: '/spec/minReplicas', before: 1, after: 2 },
      { path: '/spec/maxReplicas', before: 5, after: 10 },
    ]);
    assert.match(executed.summary, /api-hpa minReplicas 1→2, maxReplicas 5→10/);

    // When it rolls back
    const rolledBack = await adjustHPA.rollback(context(), backup, executed, action);

    // Then exactly the backed-up values are back
    assert.equal(rolledBack.outcome, 'RolledBack');
    const restored = await readObject(context(), hpaRef('api-hpa'));
    assert.deepEqual(readFields(restored, Object.keys(backup.fields)), backup.fields);

    // And a retried rollback finds nothing to do
    assert.equal((await adjustHPA.rollback(context(), backup, executed, action)).outcome, 'NothingToRestore');
  });

  it('keeps a later change by someone else: rollback is RollbackConflict and maxReplicas stays 9', async () => {
    // Given AdjustHPA naming api-hpa raised maxReplicas from 5 to 6
    const action = adjust({ name: 'api-hpa', maxReplicas: 6 });
    const backup = await adjustHPA.backup(context(), deployment, action);
    assert.deepEqual(backup.fields, { '/spec/maxReplicas': 5 });
    const executed = await adjustHPA.execute(context(), deployment, action, backup);

    // When someone else then sets maxReplicas to 9
    await hpas().patchNamespacedHorizontalPodAutoscaler(
      { namespace: namespace.name, name: 'api-hpa', body: { spec: { maxReplicas: 9 } } },
      mergePatch,
    );
    const rolledBack = await adjustHPA.rollback(context(), backup, executed, action);

    // Then nothing is restored, the conflict is named, and 9 is kept
    assert.equal(rolledBack.outcome, 'RollbackConflict');
    assert.deepEqual(rolledBack.conflicts, [{ path: '/spec/maxReplicas', wrote: 6, found: 9 }]);
    assert.match(rolledBack.reason, /maxReplicas is 9/);
    const hpa = await readObject(context(), hpaRef('api-hpa'));
    assert.equal(readFields(hpa, ['/spec/maxReplicas'])['/spec/maxReplicas'], 9);
  });

  it('refuses bounds that would leave minReplicas above maxReplicas, and changes nothing', async () => {
    // Given other-hpa allows 2..4
    const target: TargetRef = { kind: 'Deployment', namespace: namespace.name, name: 'other' };
    const action = adjust({ minReplicas: 7 });
    const backup = await adjustHPA.backup(context(), target, action);
    // When AdjustHPA asks for minReplicas 7, then it is Invalid
    await assert.rejects(
      adjustHPA.execute(context(), target, action, backup),
      isActionError('Invalid', /minReplicas 7 above maxReplicas 4/),
    );
    // And the HPA is as it was
    const hpa = await readObject(context(), hpaRef('other-hpa'));
    assert.deepEqual(readFields(hpa, ['/spec/minReplicas', '/spec/maxReplicas']), {
      '/spec/minReplicas': 2,
      '/spec/maxReplicas': 4,
    });
  });

  it('writes nothing in a dry run', async () => {
    // Given other-hpa allows 2..4
    const target: TargetRef = { kind: 'Deployment', namespace: namespace.name, name: 'other' };
    const action = adjust({ maxReplicas: 8 });
    const backup = await adjustHPA.backup(context(true), target, action);
    // When AdjustHPA runs as a dry run
    const executed = await adjustHPA.execute(context(true), target, action, backup);
    // Then it says what it would do and the HPA keeps 4
    assert.match(executed.summary, /^dry run: would set HorizontalPodAutoscaler other-hpa maxReplicas 4→8/);
    const hpa = await readObject(context(), hpaRef('other-hpa'));
    assert.equal(readFields(hpa, ['/spec/maxReplicas'])['/spec/maxReplicas'], 4);
  });

  it('is NotApplicable without an HPA, and TargetGone when the Deployment is gone', async () => {
    // Given Deployment lonely has no HPA, then backup says NotApplicable
    const action = adjust({ maxReplicas: 3 });
    await assert.rejects(
      adjustHPA.backup(context(), { kind: 'Deployment', namespace: namespace.name, name: 'lonely' }, action),
      isActionError('NotApplicable', /no HorizontalPodAutoscaler in namespace .* scales Deployment .*lonely/),
    );
    // And naming an HPA that scales another Deployment is NotApplicable too
    await assert.rejects(
      adjustHPA.backup(context(), deployment, adjust({ name: 'other-hpa', maxReplicas: 3 })),
      isActionError('NotApplicable', /scales Deployment other, not Deployment/),
    );
    // Given a Deployment that does not exist, then backup says TargetGone
    await assert.rejects(
      adjustHPA.backup(context(), { kind: 'Deployment', namespace: namespace.name, name: 'missing' }, action),
      isActionError('TargetGone'),
    );
  });
});

describe('CordonNode', () => {
  const node = unique('kmt-cordon');
  const target: TargetRef = { kind: 'Node', name: node };
  const action: Action = { type: 'CordonNode' };
  before(() => createFakeNode(node));
  after(() => deleteNode(node));

  it('marks the node unschedulable, and rollback removes the field again', async () => {
    // Given a schedulable node (no /spec/unschedulable at all)
    const backup = await cordonNode.backup(context(), target, action);
    assert.deepEqual(backup.fields, { '/spec/unschedulable': null });

    // When it is cordoned
    const executed = await cordonNode.execute(context(), target, action, backup);

    // Then the API server has it unschedulable
    const cordoned = await readObject(context(), nodeRef(node));
    assert.equal(readFields(cordoned, ['/spec/unschedulable'])['/spec/unschedulable'], true);
    assert.equal(executed.summary, `cordoned node ${node}`);

    // When it rolls back, then the field is absent again, exactly as backed up
    const rolledBack = await cordonNode.rollback(context(), backup, executed, action);
    assert.equal(rolledBack.outcome, 'RolledBack');
    assert.equal(rolledBack.reason, `uncordoned node ${node}`);
    const restored = await readObject(context(), nodeRef(node));
    assert.deepEqual(readFields(restored, ['/spec/unschedulable']), backup.fields);
  });

  it('changes nothing in a dry run, and says TargetGone for a missing node', async () => {
    // Given the node, when a dry run cordons it, then it stays schedulable
    const backup = await cordonNode.backup(context(true), target, action);
    const executed = await cordonNode.execute(context(true), target, action, backup);
    assert.equal(executed.summary, `dry run: would cordon node ${node}`);
    const after = await readObject(context(), nodeRef(node));
    assert.deepEqual(readFields(after, ['/spec/unschedulable']), { '/spec/unschedulable': null });
    // Given no such node, then backup says TargetGone
    await assert.rejects(
      cordonNode.backup(context(), { kind: 'Node', name: unique('kmt-nonode') }, action),
      isActionError('TargetGone'),
    );
  });
});

describe('DrainNode', () => {
  const node = unique('kmt-drain');
  const target: TargetRef = { kind: 'Node', name: node };
  const action: Action = { type: 'DrainNode', drainNode: { timeout: '3s' } };
  const policy = () => kubeconfig().makeApiClient(PolicyV1Api);

  before(async () => {
    await createFakeNode(node);
    // Two pods of a Deployment pinned to the node, a DaemonSet pod and a mirror pod on it
    await createDeployment('pinned', 2, node);
    const labels = { app: 'agent' };
    await kubeconfig()
      .makeApiClient(AppsV1Api)
      .createNamespacedDaemonSet({
        namespace: namespace.name,
        body: {
          metadata: { name: 'agent' },
          spec: {
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: {
                nodeSelector: { 'kubernetes.io/hostname': node },
                tolerations: [toleration(node)],
                containers: [{ name: 'agent', image: 'busybox:1.36' }],
              },
            },
          },
        },
      });
    await kubeconfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedPod({
        namespace: namespace.name,
        body: {
          metadata: { name: 'static-web', annotations: { 'kubernetes.io/config.mirror': 'static' } },
          spec: { nodeName: node, containers: [{ name: 'web', image: 'nginx:1.27' }] },
        },
      });
    await eventually('4 Running pods on the node', async () => {
      const pods = await podsOn(node);
      return pods.filter((p) => p.status?.phase === 'Running').length === 4 ? true : undefined;
    });
    await policy().createNamespacedPodDisruptionBudget({
      namespace: namespace.name,
      body: {
        metadata: { name: 'pinned-pdb' },
        spec: { minAvailable: 2, selector: { matchLabels: { app: 'pinned' } } },
      },
    });
    await eventually('the PDB to count 2 healthy pods', async () => {
      const pdb = await policy().readNamespacedPodDisruptionBudget({
        namespace: namespace.name,
        name: 'pinned-pdb',
      });
      return pdb.status?.currentHealthy === 2 ? true : undefined;
    });
  });
  after(async () => {
    // Remove our pods while KWOK still manages the node, so their deletion completes; a pod
    // left on a deleted node lingers until the pod garbage collector finds it.
    const apps = kubeconfig().makeApiClient(AppsV1Api);
    await apps
      .deleteNamespacedDeployment({ namespace: namespace.name, name: 'pinned' })
      .catch(() => undefined);
    await apps.deleteNamespacedDaemonSet({ namespace: namespace.name, name: 'agent' }).catch(() => undefined);
    await kubeconfig()
      .makeApiClient(CoreV1Api)
      .deleteNamespacedPod({ namespace: namespace.name, name: 'static-web' })
      .catch(() => undefined);
    await eventually('no pods left on the node', async () =>
      (await podsOn(node)).length === 0 ? true : undefined,
    );
    await deleteNode(node);
  });

  it('reports in a dry run what a PodDisruptionBudget would block, changing nothing', async () => {
    // Given the PDB pinned-pdb needs both pinned pods
    const backup = await drainNode.backup(context(true), target, action);
    // When a dry run drains the node
    const executed = await drainNode.execute(context(true), target, action, backup);
    // Then it names the blocked pods, and the node and its pods are untouched
    assert.match(
      executed.summary,
      /^dry run: would cordon node .* and evict 0 pods; 2 pods .* are blocked now/,
    );
    const nodeNow = await readObject(context(), nodeRef(node));
    assert.deepEqual(readFields(nodeNow, ['/spec/unschedulable']), { '/spec/unschedulable': null });
    assert.equal((await podsOn(node)).length, 4);
  });

  it('is blocked by a PodDisruptionBudget until its timeout, then evicts once the budget is gone', async () => {
    // Given the PDB pinned-pdb (minAvailable 2) covers the two pinned pods
    const backup = await drainNode.backup(context(), target, action);
    assert.deepEqual(backup.fields, { '/spec/unschedulable': null });
    const pinned = (await podsOn(node)).filter((p) => p.metadata?.labels?.app === 'pinned');
    assert.equal(pinned.length, 2);

    // When the node is drained with a 3s timeout
    heartbeats.length = 0;
    const started = Date.now();
    await assert.rejects(drainNode.execute(context(), target, action, backup), (error: unknown) => {
      // Then it gives up after the timeout, naming the blocked pods and the PDB
      assert.ok(error instanceof StepFailure, String(error));
      assert.match(error.message, /gave up after 3s: 2 pods could not be evicted/);
      // A failed step that says it cordoned: its rollback uncordons the node
      assert.deepEqual(error.executed?.written, { '/spec/unschedulable': true });
      assert.match(error.message, new RegExp(`PodDisruptionBudget ${namespace.name}/pinned-pdb`));
      for (const pod of pinned)
        assert.ok(error.message.includes(pod.metadata?.name ?? '?'), 'names each pod');
      return true;
    });
    assert.ok(Date.now() - started >= 3_000, 'waited for the timeout');
    assert.ok(heartbeats.length > 0, 'heartbeats while waiting');
    // And the pods still run there; the node is cordoned
    assert.equal((await podsOn(node)).length, 4);
    const cordoned = await readObject(context(), nodeRef(node));
    assert.equal(readFields(cordoned, ['/spec/unschedulable'])['/spec/unschedulable'], true);

    // When the PDB is deleted and the activity retries with the same backup
    await policy().deleteNamespacedPodDisruptionBudget({ namespace: namespace.name, name: 'pinned-pdb' });
    const executed = (await drainNode.execute(context(), target, action, backup)) as DrainExecuteResult;

    // Then both pinned pods are evicted, the DaemonSet and mirror pods stay, the node is cordoned
    assert.match(executed.summary, new RegExp(`^drained node ${node}: cordoned, evicted 2 pods`));
    assert.deepEqual(
      executed.drain.evicted.sort(),
      pinned.map((p) => `${namespace.name}/${p.metadata?.name}`).sort(),
    );
    const left = await podsOn(node);
    assert.deepEqual(
      left.map((p) => p.metadata?.name ?? '').sort(),
      [
        ...left.filter((p) => p.metadata?.labels?.app === 'agent').map((p) => p.metadata?.name ?? ''),
        'static-web',
      ].sort(),
    );
    assert.equal(left.length, 2);
    assert.deepEqual(executed.written, { '/spec/unschedulable': true });
    // And the Deployment's replacements wait unscheduled, since they may only run on this node
    await eventually('2 replacement pods Pending', async () => {
      const pods = await kubeconfig()
        .makeApiClient(CoreV1Api)
        .listNamespacedPod({ namespace: namespace.name, labelSelector: 'app=pinned' });
      return pods.items.filter((p) => p.status?.phase === 'Pending' && !p.spec?.nodeName).length === 2
        ? true
        : undefined;
    });

    // When it rolls back
    const rolledBack = await drainNode.rollback(context(), backup, executed, action);

    // Then the node is uncordoned exactly as backed up, and the reason says the pods stay moved
    assert.equal(rolledBack.outcome, 'RolledBack');
    assert.equal(
      rolledBack.reason,
      `uncordoned node ${node}; the 2 evicted pods were rescheduled by their controllers and are not moved back`,
    );
    const restored = await readObject(context(), nodeRef(node));
    assert.deepEqual(readFields(restored, ['/spec/unschedulable']), backup.fields);
  });
});

describe('DrainNode and protected pods', () => {
  const node = unique('kmt-guard');
  const target: TargetRef = { kind: 'Node', name: node };
  const action: Action = { type: 'DrainNode', drainNode: { timeout: '20s' } };
  // KubeMedic's own namespace (the worker adds it to the protected ones) and one labelled protected
  const own = useTestNamespace('kmt-own');
  const labelled = useTestNamespace('kmt-prot');
  const core = () => kubeconfig().makeApiClient(CoreV1Api);
  /** The run as the worker makes it: a cluster policy, the defaults and its own namespace protected. */
  const run = () => ({
    ...context(),
    scope: {
      policy: { kind: 'ClusterRemediationPolicy' as const, name: 'drainer' },
      protectedNamespaces: [...defaultProtectedNamespaces, own.name],
    },
  });
  const pods = (): { namespace: string; name: string; labels: Record<string, string> }[] => [
    { namespace: namespace.name, name: 'plain', labels: {} },
    { namespace: namespace.name, name: 'labelled', labels: { [protectedLabel]: 'true' } },
    { namespace: 'kube-system', name: node, labels: {} },
    { namespace: own.name, name: 'worker', labels: {} },
    { namespace: labelled.name, name: 'tenant', labels: {} },
  ];
  const podOnNode = (namespace: string, name: string) =>
    core()
      .readNamespacedPod({ namespace, name })
      .then(
        (pod) => pod.spec?.nodeName === node,
        () => false,
      );

  before(async () => {
    await createFakeNode(node);
    await core().patchNamespace(
      { name: labelled.name, body: { metadata: { labels: { [protectedLabel]: 'true' } } } },
      mergePatch,
    );
    for (const pod of pods())
      await core().createNamespacedPod({
        namespace: pod.namespace,
        body: {
          metadata: { name: pod.name, labels: pod.labels },
          spec: { nodeName: node, containers: [{ name: 'app', image: 'nginx:1.27' }] },
        },
      });
  });
  after(async () => {
    for (const pod of pods())
      await core()
        .deleteNamespacedPod({ namespace: pod.namespace, name: pod.name })
        .catch(() => undefined);
    await eventually('no test pods left on the node', async () => {
      const left = await core().listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` });
      return left.items.length === 0 ? true : undefined;
    });
    await deleteNode(node);
  });

  it('evicts only the pod the guard allows, and names every pod it left with why', async () => {
    // Given a node running a plain pod, a pod labelled protected, a kube-system pod, a pod in
    // KubeMedic's own namespace and one in a namespace labelled protected
    const backup = await drainNode.backup(run(), target, action);
    // When it is drained
    const executed = await drainNode.execute(run(), target, action, backup);
    // Then only the plain pod is evicted
    assert.deepEqual(executed.drain.evicted, [`${namespace.name}/plain`]);
    assert.equal(await podOnNode(namespace.name, 'plain'), false);
    for (const pod of pods().slice(1))
      assert.equal(await podOnNode(pod.namespace, pod.name), true, `${pod.namespace}/${pod.name} still runs`);
    // And the summary says why each of the others stayed
    for (const why of [
      `${namespace.name}/labelled: Pod ${namespace.name}/labelled is labelled ${protectedLabel}=true`,
      `kube-system/${node}: Pod kube-system/${node} is in the protected namespace kube-system`,
      `${own.name}/worker: Pod ${own.name}/worker is in the protected namespace ${own.name}`,
      `${labelled.name}/tenant: namespace ${labelled.name} is labelled ${protectedLabel}=true`,
    ])
      assert.ok(executed.summary.includes(why), `says ${why} in: ${executed.summary}`);
    assert.match(executed.summary, /; left 4 pods \(/);
    await drainNode.rollback(run(), backup, executed, action);
  });
});

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

describe('Webhook', () => {
  const received: Received[] = [];
  let server: Server;
  let base = '';
  const target: TargetRef = { kind: 'Deployment', namespace: '', name: 'hooked' };
  const hook = (webhook: Action['webhook']): Action => ({ type: 'Webhook', webhook });
  /** Our receiver listens on loopback, which the worker refuses unless told (as tests do) to allow it. */
  const receiving = (dryRun = false) => ({ ...context(dryRun), outbound: { allowLoopback: true } });

  before(async () => {
    target.namespace = namespace.name;
    await createDeployment('hooked');
    // Given a receiver on 127.0.0.1: /fail answers 500, /slow never answers, others 200
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(text) });
        if (req.url === '/slow') return;
        if (req.url === '/redirect') {
          res.writeHead(302, { Location: '/execute' });
          return res.end();
        }
        if (req.url === '/fail') {
          // A secret in the reason phrase and in the body: neither may reach the run's history
          res.writeHead(500, 'db_password=hunter2', { 'Content-Type': 'text/plain' });
          return res.end('receiver is down: db_password=hunter2');
        }
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('POSTs the execute event with the backup hash as Idempotency-Key, and the rollback event to rollbackUrl', async () => {
    // Given a webhook action with a rollback URL
    const action = hook({
      url: `${base}/execute?token=secret`,
      rollbackUrl: `${base}/rollback`,
      timeout: '5s',
    });
    const backup = await webhook.backup(receiving(), target, action);
    assert.deepEqual(backup.fields, {});
    assert.deepEqual(backup.object, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: namespace.name,
      name: 'hooked',
    });
    received.length = 0;

    // When it executes
    const executed = await webhook.execute(receiving(), target, action, backup);

    // Then the receiver got one JSON POST with the target and the backup hash
    assert.equal(received.length, 1);
    const [call] = received;
    assert.equal(call?.path, '/execute?token=secret');
    assert.equal(call?.headers['content-type'], 'application/json');
    assert.equal(call?.headers['idempotency-key'], backup.hash);
    assert.deepEqual(call?.body, { event: 'execute', target, backupHash: backup.hash });
    assert.equal(
      executed.summary,
      `called webhook ${base}/execute for Deployment ${namespace.name}/hooked (HTTP 200)`,
    );
    assert.ok(!executed.summary.includes('secret'), 'the query string stays out of the summary');

    // When it rolls back
    const rolledBack = await webhook.rollback(receiving(), backup, executed, action);

    // Then the rollback URL got the rollback event, under a key of its own
    assert.equal(rolledBack.outcome, 'RolledBack');
    assert.equal(received.length, 2);
    assert.equal(received[1]?.path, '/rollback');
    assert.equal(received[1]?.headers['idempotency-key'], `${backup.hash}-rollback`);
    assert.deepEqual(received[1]?.body, { event: 'rollback', target, backupHash: backup.hash });
  });

  it('is NotReversible without a rollbackUrl, and sends nothing in a dry run', async () => {
    // Given a webhook action without a rollback URL
    const action = hook({ url: `${base}/execute`, timeout: '5s' });
    const backup = await webhook.backup(receiving(), target, action);
    received.length = 0;
    // When a dry run executes, then nothing is sent
    const dry = await webhook.execute(receiving(true), target, action, backup);
    assert.match(dry.summary, /^dry run: would POST/);
    assert.equal(received.length, 0);
    // When it executes and rolls back, then rollback is NotReversible and sends nothing
    const executed = await webhook.execute(receiving(), target, action, backup);
    const rolledBack = await webhook.rollback(receiving(), backup, executed, action);
    assert.equal(rolledBack.outcome, 'NotReversible');
    assert.match(rolledBack.reason, /no rollbackUrl/);
    assert.equal(received.length, 1);
  });

  it('fails retryably on a non-2xx answer and on a timeout', async () => {
    // Given receivers that answer 500 and that never answer
    const failing = hook({ url: `${base}/fail`, timeout: '5s' });
    const backup = await webhook.backup(receiving(), target, failing);
    // Then execute throws a plain (retryable) Error with the status, and never the answer's body
    // (it would land in the run's history, where the tenant reads it)
    await assert.rejects(webhook.execute(receiving(), target, failing, backup), (error: unknown) => {
      assert.ok(error instanceof Error && !(error instanceof ActionError), String(error));
      assert.match(error.message, /answered 500 Internal Server Error$/);
      assert.ok(!error.message.includes('db_password'), error.message);
      return true;
    });
    const started = Date.now();
    await assert.rejects(
      webhook.execute(receiving(), target, hook({ url: `${base}/slow`, timeout: '300ms' }), backup),
      /no answer within 300 ms/,
    );
    assert.ok(Date.now() - started < 5_000);
  });

  it('does not follow a redirect', async () => {
    const action = hook({ url: `${base}/redirect`, timeout: '5s' });
    const backup = await webhook.backup(receiving(), target, action);
    received.length = 0;
    await assert.rejects(
      webhook.execute(receiving(), target, action, backup),
      /answered 302 Found \(redirects are not followed\)/,
    );
    assert.deepEqual(
      received.map((r) => r.path),
      ['/redirect'],
    );
  });

  for (const row of [
    {
      name: 'the metadata address',
      url: () => 'http://169.254.169.254/latest/meta-data/',
      refused: /169\.254\.169\.254 is a link-local, metadata/,
    },
    {
      name: 'loopback, by default',
      url: () => `${base}/execute`,
      refused: /127\.0\.0\.1 is a loopback address/,
    },
    {
      name: 'a name that resolves to loopback',
      url: () => `${base.replace('127.0.0.1', 'localhost')}/execute`,
      refused: /localhost resolves to .*loopback address/,
    },
    {
      name: 'IPv4 written as IPv6',
      url: () => 'http://[::ffff:169.254.169.254]/',
      refused: /169\.254\.169\.254 is a link-local/,
    },
  ])
    it(`refuses ${row.name} before sending anything, as a refusal retrying cannot change`, async () => {
      // Given a webhook action aimed inside the worker's own network position
      const action = hook({ url: row.url(), timeout: '2s' });
      const backup = await webhook.backup(context(), target, action);
      received.length = 0;
      // When it executes with the worker's defaults
      await assert.rejects(webhook.execute(context(), target, action, backup), (error: unknown) => {
        // Then it is refused, naming the address, and the receiver heard nothing
        assert.ok(isActionError('Forbidden', row.refused)(error), String(error));
        return true;
      });
      assert.equal(received.length, 0);
    });

  it("holds a namespaced policy's webhooks to the operator's allowlist of hosts", async () => {
    const action = hook({ url: `${base}/execute`, timeout: '2s' });
    const backup = await webhook.backup(context(), target, action);
    const run = (allowHosts: string[]) => ({
      ...receiving(),
      outbound: { allowLoopback: true, allowHosts },
      scope: {
        policy: { kind: 'RemediationPolicy' as const, namespace: namespace.name, name: 'p' },
        protectedNamespaces: defaultProtectedNamespaces,
      },
    });
    received.length = 0;
    await assert.rejects(
      webhook.execute(run(['hooks.example.com']), target, action, backup),
      isActionError('Forbidden', /127\.0\.0\.1 is not among the hosts the operator allows/),
    );
    assert.equal(received.length, 0);
    await webhook.execute(run(['127.0.0.1']), target, action, backup);
    assert.equal(received.length, 1);
  });

  it('says TargetGone when the target does not exist', async () => {
    await assert.rejects(
      webhook.backup(receiving(), { ...target, name: 'missing' }, hook({ url: `${base}/x`, timeout: '1s' })),
      isActionError('TargetGone'),
    );
  });
});

describe('RunJob', () => {
  const target: TargetRef = { kind: 'Deployment', namespace: '', name: 'jobbed' };
  const jobs = () => kubeconfig().makeApiClient(BatchV1Api);
  /** A JobSpec; with `external`, the built-in Job controller leaves the Job to another controller. */
  const run = (timeout: string, external = false): Action => ({
    type: 'RunJob',
    runJob: {
      template: {
        ...(external ? { managedBy: externalJobController } : {}),
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'fix', image: 'busybox:1.36', command: ['true'] }],
          },
        },
      },
      timeout,
    },
  });

  before(async () => {
    target.namespace = namespace.name;
    await createDeployment('jobbed');
  });

  const managedJobs = async () =>
    (await jobs().listNamespacedJob({ namespace: namespace.name, labelSelector: `${managedLabel}=true` }))
      .items;
  const jobExists = (name: string) =>
    eventually(`Job ${name} created`, async () =>
      (await managedJobs()).some((j) => j.metadata?.name === name) ? true : undefined,
    );

  it('creates one Job, waits until it completes, reuses it on a retry, and rollback deletes it', async () => {
    // Given a RunJob action and its backup, which names the Job
    const action = run('60s');
    const backup = await runJob.backup(context(), target, action);
    assert.equal(backup.object.kind, 'Job');
    assert.match(backup.object.name, /^kubemedic-[0-9a-f]{10}$/);
    const name = backup.object.name;

    // When it executes, and the Job controller runs it (KWOK completes Job pods with exit 0)
    heartbeats.length = 0;
    const executed = await runJob.execute(context(), target, action, backup);

    // Then execute reports the completed Job, labelled as KubeMedic's, having heartbeaten meanwhile
    assert.match(
      executed.summary,
      new RegExp(
        `^ran Job ${namespace.name}/${name} for Deployment .*/jobbed: complete, 1 succeeded after \\d+s$`,
      ),
    );
    assert.ok(heartbeats.length > 0, 'heartbeats while waiting');
    const [job] = await managedJobs();
    assert.equal(job?.metadata?.name, name);
    assert.equal(job?.metadata?.labels?.[managedLabel], 'true');
    assert.ok(job?.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'));

    // When the activity is retried with the same backup, then it finds the same Job, not a second one
    const retried = await runJob.execute(context(), target, action, backup);
    assert.match(retried.summary, new RegExp(`^found Job ${namespace.name}/${name}`));
    assert.equal((await managedJobs()).length, 1);

    // When it rolls back, then the Job is deleted and the reason says what is not undone
    const rolledBack = await runJob.rollback(context(), backup, executed, action);
    assert.equal(rolledBack.outcome, 'RolledBack');
    assert.equal(rolledBack.reason, `deleted Job ${namespace.name}/${name}; what the Job did is not undone`);
    await eventually(`Job ${name} gone`, async () => ((await managedJobs()).length === 0 ? true : undefined));
    // And a retried rollback finds nothing left to delete
    const again = await runJob.rollback(context(), backup, executed, action);
    assert.equal(again.outcome, 'NothingToRestore');
  });

  it('follows the Job status its controller writes: Complete succeeds, Failed throws its message', async () => {
    // Given a Job left to another controller (the test), which marks it Complete
    const completing = run('60s', true);
    const backup = await runJob.backup(context(), target, completing);
    const executing = runJob.execute(context(), target, completing, backup);
    await jobExists(backup.object.name);
    await finishJob(namespace.name, backup.object.name, 'Complete');
    // Then execute succeeds
    assert.match((await executing).summary, /: complete, 1 succeeded/);

    // Given another such Job, which its controller marks Failed
    const failing = run('60s', true);
    const failingBackup = await runJob.backup(context(), target, failing);
    // (the rejection is awaited from the start: execute may see Failed before finishJob returns)
    const failingExecute = assert.rejects(
      runJob.execute(context(), target, failing, failingBackup),
      new RegExp(
        `Job ${namespace.name}/${failingBackup.object.name} failed: BackoffLimitExceeded: ` +
          'Job has reached the specified backoff limit',
      ),
    );
    await jobExists(failingBackup.object.name);
    await finishJob(namespace.name, failingBackup.object.name, 'Failed');
    // Then execute throws with the Job's failure reason and message
    await failingExecute;
  });

  it('gives up at its timeout as a failed step that says it created the Job', async () => {
    // Given a Job that nothing finishes, when execute waits 2s
    const action = run('2s', true);
    const backup = await runJob.backup(context(), target, action);
    const started = Date.now();
    // Then it gives up after 2s, naming the Job
    await assert.rejects(runJob.execute(context(), target, action, backup), (error: unknown) => {
      // As a failed step that says what it did: the rollback deletes the Job it created
      assert.ok(error instanceof StepFailure, String(error));
      assert.match(
        error.message,
        new RegExp(`Job ${namespace.name}/${backup.object.name} did not finish within 2s`),
      );
      assert.match(error.executed?.summary ?? '', /created Job/);
      return true;
    });
    assert.ok(Date.now() - started >= 2_000);
  });

  it('counts its timeout from the first attempt, and stops waiting when the run cancels it', async () => {
    // Given a Job that nothing finishes, when a retry runs 61 s after the first attempt of a 60s wait
    const action = run('60s', true);
    const backup = await runJob.backup(context(), target, action);
    const started = Date.now();
    const retry = { ...context(), firstAttemptAt: Date.now() - 61_000 };
    // Then it gives up at once instead of waiting another 60 s
    await assert.rejects(runJob.execute(retry, target, action, backup), /did not finish within 60s/);
    assert.ok(Date.now() - started < 30_000, 'no fresh 60 s wait');

    // When a run cancels the activity while it waits for the Job, then the wait ends
    const cancel = new AbortController();
    const waiting = runJob.execute({ ...context(), signal: cancel.signal }, target, action, backup);
    setTimeout(() => cancel.abort(), 1_000);
    await assert.rejects(waiting, { name: 'AbortError' });
    assert.ok(Date.now() - started < 30_000, 'stopped when cancelled');
  });

  it('refuses a template that breaks the restricted Pod Security Standard, naming each field, creating no Job', async () => {
    // Given the hostile template of issue 9: privileged, host PID and network, the host's root
    // mounted, another ServiceAccount's rights
    const hostile: Action = {
      type: 'RunJob',
      runJob: {
        template: {
          template: {
            spec: {
              restartPolicy: 'Never',
              hostPID: true,
              hostNetwork: true,
              serviceAccountName: 'edit-elsewhere',
              volumes: [{ name: 'root', hostPath: { path: '/' } }],
              containers: [
                {
                  name: 'own',
                  image: 'busybox:1.36',
                  securityContext: { privileged: true },
                  volumeMounts: [{ name: 'root', mountPath: '/host' }],
                },
              ],
            },
          },
        },
        timeout: '60s',
      },
    };
    const backup = await runJob.backup(context(), target, hostile);
    // When it executes, then it is refused before any create, each field named
    await assert.rejects(runJob.execute(context(), target, hostile, backup), (error: unknown) => {
      assert.ok(isActionError('Forbidden', /restricted Pod Security Standard/)(error), String(error));
      for (const field of [
        'template.spec.hostNetwork',
        'template.spec.hostPID',
        'template.spec.volumes[0].hostPath',
        'template.spec.serviceAccountName edit-elsewhere',
        'template.spec.containers[0].securityContext.privileged',
      ])
        assert.ok((error as Error).message.includes(field), `names ${field}: ${String(error)}`);
      return true;
    });
    const created = await jobs()
      .readNamespacedJob({ namespace: namespace.name, name: backup.object.name })
      .then(
        () => true,
        () => false,
      );
    assert.equal(created, false, 'no Job was created');
  });

  it('creates a plain template restricted: no escalation, every capability dropped, non-root, RuntimeDefault', async () => {
    // Given a template that says nothing about security, run by another controller (the test)
    const action = run('60s', true);
    const backup = await runJob.backup(context(), target, action);
    const executing = runJob.execute(context(), target, action, backup);
    await jobExists(backup.object.name);
    // Then the Job created holds the restricted defaults
    const job = await jobs().readNamespacedJob({ namespace: namespace.name, name: backup.object.name });
    const pod = job.spec?.template.spec;
    assert.equal(pod?.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.deepEqual(JSON.parse(JSON.stringify(pod?.containers[0]?.securityContext)), {
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    await finishJob(namespace.name, backup.object.name, 'Complete');
    await executing;
  });

  it('creates nothing in a dry run, and says TargetGone for a missing target', async () => {
    // Given a RunJob action, when a dry run executes, then no Job exists afterwards
    const action = run('60s');
    const backup = await runJob.backup(context(true), target, action);
    const executed = await runJob.execute(context(true), target, action, backup);
    assert.match(executed.summary, /^dry run: would create Job/);
    assert.ok(!(await managedJobs()).some((j) => j.metadata?.name === backup.object.name));
    // Given a target that does not exist, then backup says TargetGone
    await assert.rejects(
      runJob.backup(context(), { ...target, name: 'missing' }, action),
      isActionError('TargetGone'),
    );
  });
});

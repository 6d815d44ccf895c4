/**
 * Several clusters, for real: the stack's two Kubernetes clusters (devstack/clusters.ts), one
 * Temporal, and a worker and a watcher per cluster, each with its own KubeMedic cluster name —
 * so its own task queue, workflow IDs and governors — under the chart's identities of its own
 * cluster. The same namespace, Deployment and policy names exist in both.
 *
 * Proves: a trigger in cluster A starts a run that acts on A only (B's Deployment keeps its
 * resourceVersion and spec, B has no run, and B's API server refuses A's worker token); each
 * cluster's runs are on its own task queue and under its own workflow IDs, and `kubemedic list`
 * tells them apart (`--cluster` lists one cluster's, `--all-clusters` both, with a CLUSTER
 * column); and while A's governor is paused (a RemediationPause in A, made by `kubemedic pause`)
 * and a storm in A is refused, B's run gets its permit and succeeds.
 *
 * Both clusters share the stack's one Prometheus, so a policy's query names its cluster's
 * series (`cluster="…"`), as it would against a Prometheus or Thanos that holds several.
 * The second cluster runs no scheduler: the Pods name their node, in both clusters alike.
 */
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { WorkflowNotFoundError } from '@temporalio/client';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chartIdentities } from '../../devstack/chart.ts';
import { apiserverUrlOf, clusters, type KubernetesCluster } from '../../devstack/clusters.ts';
import { loadKubeconfig } from '../../devstack/environment.ts';
import { fakeNodeNames } from '../../devstack/fake-nodes.ts';
import { remoteWrite } from '../../devstack/remote-write.ts';
import { taskQueueFor } from '../../domain/config/names.ts';
import { globalGovernorId, governorStatusQuery } from '../../domain/governor.ts';
import { failedWith } from '../../domain/kube/errors.ts';
import { statusQuery } from '../../domain/messages.ts';
import { remediationWorkflowId, type RemediationResult } from '../../domain/run.ts';
import type { RunRow } from '../../cli/commands/list.ts';
import type { remediation } from '../../workflows/remediation.ts';
import { jsonOf, kubemedic } from '../support/cli.ts';
import { useDecisionRelays } from '../support/decision-relays.ts';
import { createPolicyIn, type KubeMedic, useKubeMedic } from '../support/kubemedic.ts';
import { conditions, deploymentPolicy, scale } from '../support/policy-builder.ts';
import { eventually, useTestNamespace } from '../support/stack.ts';

// KubeMedic for each cluster first: its after hooks then stop the workers and watchers before
// the namespaces go.
const a = useKubeMedic();
const b = useKubeMedic({ kubernetes: clusters.b });
useDecisionRelays(a); // A's pause relay: `kubemedic pause` makes a RemediationPause in A
const namespace = useTestNamespace('kmclu');

const admin = (medic: KubeMedic): KubeConfig => loadKubeconfig(medic.kubernetes);
const apps = (medic: KubeMedic) => admin(medic).makeApiClient(AppsV1Api);

/** A Deployment whose Pods name their node (the second cluster has no scheduler), Available. */
async function givenDeployment(medic: KubeMedic, name: string, replicas: number, wait = true) {
  const labels = { app: name };
  await apps(medic).createNamespacedDeployment({
    namespace: namespace.name,
    body: {
      metadata: { name, labels },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { nodeName: fakeNodeNames[0], containers: [{ name: 'app', image: 'example.com/app:1' }] },
        },
      },
    },
  });
  if (!wait) return;
  await eventually(`${name} Available in ${medic.kubernetes.name}`, async () => {
    const status = (await readDeployment(medic, name)).status;
    return status?.readyReplicas === replicas ? true : undefined;
  });
}

const readDeployment = (medic: KubeMedic, name: string) =>
  apps(medic).readNamespacedDeployment({ namespace: namespace.name, name });

/** The load series a cluster's policy reads: the shared Prometheus tells clusters apart by label. */
const load = (medic: KubeMedic) =>
  `kubemedic_e2e_load{namespace="${namespace.name}",cluster="${medic.cluster}"}`;
const loadIs = (medic: KubeMedic, value: number) =>
  remoteWrite([
    {
      // A series names its target by a label of the target's kind (readings.ts).
      labels: {
        __name__: 'kubemedic_e2e_load',
        namespace: namespace.name,
        deployment: 'web',
        cluster: medic.cluster,
      },
      value,
    },
  ]);

/** The policy `scale-web`, the same in both clusters but for the cluster its query names. */
const givenScalePolicy = (medic: KubeMedic) =>
  createPolicyIn(
    medic.kubernetes,
    { name: 'scale-web', namespace: namespace.name },
    deploymentPolicy('web', {
      evaluationInterval: '1s',
      conditions: [conditions.prometheus('load', load(medic), 0.8)],
      actions: [scale({ replicas: 3 })],
      // Long enough for the test to lower the load once the run has scaled, however slow the machine.
      verification: { settle: '5s' },
    }),
  );

/** The run of `policy` for the Deployment `name` in `medic`'s cluster. */
const runOf = (medic: KubeMedic, name: string, policy: string) =>
  medic.client.workflow.getHandle<typeof remediation>(
    remediationWorkflowId(
      medic.cluster,
      { kind: 'Deployment', namespace: namespace.name, name },
      { kind: 'RemediationPolicy', namespace: namespace.name, name: policy },
    ),
  );
const webRun = (medic: KubeMedic) => runOf(medic, 'web', 'scale-web');

/** The run for web in `medic`'s cluster: waits for its watcher to start it, then for its end. */
async function runEnds(medic: KubeMedic, drop: () => Promise<void>): Promise<RemediationResult> {
  const run = webRun(medic);
  await eventually(`the run ${run.workflowId}`, () => run.describe(), 120_000);
  // Once it has scaled, the load falls, so verification passes.
  await eventually('web scaled to 3', async () =>
    (await readDeployment(medic, 'web')).spec?.replicas === 3 ? true : undefined,
  );
  await drop();
  return run.result();
}

const listRuns = async (medic: KubeMedic) => {
  const listed = await kubemedic(['list', '--cluster', medic.cluster, '-n', namespace.name, '-o', 'json']);
  assert.equal(listed.code, 0, listed.stderr);
  return jsonOf<RunRow[]>(listed);
};

const kubeconfigOf = (kubernetes: KubernetesCluster) => ({ KUBECONFIG: kubernetes.kubeconfig });

describe('two clusters, one Temporal', () => {
  // The same namespace in the second cluster (useTestNamespace makes it in the first, in a
  // file-level hook, which runs before this one).
  before(() =>
    admin(b)
      .makeApiClient(CoreV1Api)
      .createNamespace({
        body: { metadata: { name: namespace.name, labels: { 'kubemedic.io/test': 'true' } } },
      }),
  );
  after(() =>
    admin(b)
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: namespace.name })
      .catch((error: unknown) => console.error(`could not delete ${namespace.name} in B: ${String(error)}`)),
  );

  it(
    'a trigger in A acts on A only, on A’s task queue, and the CLI tells the runs apart',
    { timeout: 240_000 },
    async (t) => {
      t.diagnostic(
        'Given the same namespace, Deployment web and policy scale-web in A and B, and a watcher each',
      );
      await givenDeployment(a, 'web', 2);
      await givenDeployment(b, 'web', 2);
      await givenScalePolicy(a);
      await givenScalePolicy(b);
      await a.startWatcher();
      await b.startWatcher();
      const bBefore = await readDeployment(b, 'web');

      t.diagnostic('When the load of web is high in A');
      await loadIs(a, 0.95);

      t.diagnostic('Then A’s watcher starts a run that scales A’s web and succeeds');
      const result = await runEnds(a, () => loadIs(a, 0.2));
      assert.equal(result.outcome, 'Succeeded', result.reason);
      assert.equal((await readDeployment(a, 'web')).spec?.replicas, 3);

      t.diagnostic('And the run is on A’s task queue, under A’s workflow ID and cluster attribute');
      const described = await webRun(a).describe();
      assert.equal(described.taskQueue, taskQueueFor(a.cluster));
      assert.ok(described.workflowId.startsWith(`remediation/${a.cluster}/${namespace.name}/`));

      t.diagnostic('And B’s Deployment is untouched (same resourceVersion and spec) and B has no run');
      const bAfter = await readDeployment(b, 'web');
      assert.equal(bAfter.metadata?.resourceVersion, bBefore.metadata?.resourceVersion);
      assert.deepEqual(bAfter.spec, bBefore.spec);
      assert.equal(bAfter.spec?.replicas, 2);
      await assert.rejects(webRun(b).describe(), WorkflowNotFoundError);

      t.diagnostic('And A’s worker cannot act on B at all: B’s API server refuses its token (401)');
      const workerOfA = (await chartIdentities(clusters.a)).worker;
      const [clusterOfA, userOfA] = [workerOfA.getCurrentCluster(), workerOfA.getCurrentUser()];
      assert.ok(clusterOfA && userOfA);
      const aTokenOnB = new KubeConfig();
      aTokenOnB.loadFromOptions({
        clusters: [{ ...clusterOfA, server: apiserverUrlOf(clusters.b) }],
        users: [userOfA],
        contexts: [{ name: 'a-on-b', cluster: clusterOfA.name, user: userOfA.name }],
        currentContext: 'a-on-b',
      });
      await assert.rejects(
        aTokenOnB
          .makeApiClient(AppsV1Api)
          .readNamespacedDeployment({ namespace: namespace.name, name: 'web' }),
        (error) => failedWith(error, 401),
      );

      t.diagnostic('And `kubemedic list --cluster` lists each cluster’s runs only');
      const listedA = await listRuns(a);
      assert.deepEqual(
        listedA.map((row) => [row.workflowId, row.cluster]),
        [[webRun(a).workflowId, a.cluster]],
      );
      assert.deepEqual(await listRuns(b), []);
      const table = await kubemedic(['list', '--cluster', b.cluster, '-n', namespace.name]);
      assert.match(table.stdout, new RegExp(`no runs in cluster ${b.cluster} match`));
    },
  );

  it('a pause and a storm in A do not hold B’s run', { timeout: 300_000 }, async (t) => {
    const storm = Array.from({ length: 5 }, (_, i) => `storm-${i}`);
    const stormRuns = storm.map((name) => runOf(a, name, 'storm'));
    t.diagnostic('Given A is paused with `kubemedic pause`, as A’s admin');
    const paused = await kubemedic(
      ['pause', '--cluster', a.cluster, '--reason', 'storm in A'],
      kubeconfigOf(a.kubernetes),
    );
    assert.equal(paused.code, 0, paused.stderr);
    try {
      const governorA = a.client.workflow.getHandle(globalGovernorId(a.cluster));
      assert.equal((await governorA.query(governorStatusQuery)).paused?.reason?.includes('storm in A'), true);

      t.diagnostic('And a storm in A: 5 Deployments breach at once under one policy');
      for (const name of storm) await givenDeployment(a, name, 0, false);
      await createPolicyIn(
        a.kubernetes,
        { name: 'storm', namespace: namespace.name },
        {
          target: {
            kind: 'Deployment',
            selector: { matchExpressions: [{ key: 'app', operator: 'In', values: storm }] },
          },
          evaluationInterval: '1s',
          conditions: [
            conditions.prometheus(
              'storm',
              `kubemedic_e2e_storm{namespace="${namespace.name}",cluster="${a.cluster}"}`,
              0.5,
            ),
          ],
          actions: [scale({ replicas: 1 })],
          verification: { settle: '1s', conditions: [], onNoData: 'Pass' },
          cooldown: '30m',
        },
      );
      await remoteWrite(
        storm.map((deployment) => ({
          labels: {
            __name__: 'kubemedic_e2e_storm',
            namespace: namespace.name,
            cluster: a.cluster,
            deployment,
          },
          value: 1,
        })),
      );
      await eventually('the storm’s runs in A', async () =>
        (
          await Promise.all(
            stormRuns.map((run) =>
              run.describe().then(
                () => true,
                () => false,
              ),
            ),
          )
        ).every(Boolean)
          ? true
          : undefined,
      );

      t.diagnostic('When the load of web is high in B');
      await loadIs(b, 0.95);

      t.diagnostic('Then B’s run gets its permit, scales B’s web and succeeds, on B’s task queue');
      const result = await runEnds(b, () => loadIs(b, 0.2));
      assert.equal(result.outcome, 'Succeeded', result.reason);
      assert.equal((await webRun(b).describe()).taskQueue, taskQueueFor(b.cluster));
      assert.equal(
        (await b.client.workflow.getHandle(globalGovernorId(b.cluster)).query(governorStatusQuery)).paused,
        undefined,
      );

      t.diagnostic('And A was paused all along: every storm run in A was refused as paused, none acted');
      assert.ok((await governorA.query(governorStatusQuery)).paused, 'A is still paused');
      // (They hold their IDs through the policy's cooldown: their status says how they ended.)
      for (const run of stormRuns) {
        const ended = await eventually(`${run.workflowId} to end`, async () => {
          const status = await run.query(statusQuery);
          return status.outcome === undefined ? undefined : status;
        });
        assert.equal(ended.outcome, 'Skipped', ended.reason);
        assert.match(ended.reason ?? '', /^paused: paused by .*storm in A$/);
      }
      for (const name of storm) assert.equal((await readDeployment(a, name)).spec?.replicas, 0);

      t.diagnostic('And `kubemedic list` tells the clusters apart: B’s run under B, A’s under A');
      assert.deepEqual(
        (await listRuns(b)).map((row) => [row.workflowId, row.cluster]),
        [[webRun(b).workflowId, b.cluster]],
      );
      const listedA = await listRuns(a);
      assert.ok(
        listedA.every(
          (row) => row.cluster === a.cluster && row.workflowId.startsWith(`remediation/${a.cluster}/`),
        ),
      );
      assert.equal(listedA.length, 1 + storm.length);
      // And `kubemedic list --all-clusters` shows both, each row under its CLUSTER
      const everyCluster = await kubemedic(['list', '--all-clusters', '-n', namespace.name]);
      assert.equal(everyCluster.code, 0, everyCluster.stderr);
      const [header = '', ...rows] = everyCluster.stdout.trim().split('\n');
      assert.match(header, /^CLUSTER\s+ID\s+PHASE/);
      const cells = rows.map((row) => row.split(/\s+/));
      assert.deepEqual(new Set(cells.map(([cluster]) => cluster)), new Set([a.cluster, b.cluster]));
      for (const [cluster, id] of cells)
        assert.ok(id?.startsWith(`remediation/${cluster}/`), `${id} under ${cluster}`);
      assert.equal(rows.length, 2 + storm.length);
    } finally {
      // The storm's runs would hold their IDs for the cooldown: they end with the test.
      await Promise.allSettled(stormRuns.map((run) => run.terminate('test done')));
      const resumed = await kubemedic(['resume', '--cluster', a.cluster], kubeconfigOf(a.kubernetes));
      assert.equal(resumed.code, 0, resumed.stderr);
    }
  });
});

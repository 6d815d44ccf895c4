/**
 * P1: trigger → remediation workflow started, as Temporal recorded the start, on the local stack.
 * The runs wait for an approval nobody gives (no worker is needed) and are terminated at cleanup.
 *
 * - P1a, Kubernetes state: a KWOK Pod's status patched to CrashLoopBackOff, a KWOK node's Ready
 *   condition patched to False, under policies evaluated only every 5 minutes (so only the
 *   watch event can start the run in time). Baseline: the same watch event's arrival at a plain
 *   informer in the bench process.
 * - P1b, Prometheus: a breaching sample remote-written, under a 1 s evaluation interval.
 *   Baseline: one instant query's round trip.
 * - P1c, Alertmanager: an alert posted to the watcher's receiver as Alertmanager posts it (with
 *   the stack's receiver token), under a policy evaluated every 5 minutes. The goal is absolute;
 *   the POST's own round trip is shown beside it.
 */
import { type KubernetesObject, makeInformer, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureAlertReceiverToken } from '../devstack/server-configs.ts';
import { environment } from '../devstack/stack.ts';
import { remoteWrite } from '../devstack/remote-write.ts';
import { instantQuery } from '../domain/conditions/promql.ts';
import { remediationWorkflowId, type PolicyRef, type TargetRef } from '../domain/run.ts';
import { PolicyWatcher } from '../policy-watcher/index.ts';
import { type BenchContext, strategicMerge } from './context.ts';
import { type Figure, summarize, until } from './measure.ts';

const approvalNobodyGives = { required: true, timeout: '1h' };

/** A watcher of this bench run's policies only, stopped at cleanup. */
export async function benchWatcher(
  ctx: BenchContext,
  options: Partial<ConstructorParameters<typeof PolicyWatcher>[0]> = {},
): Promise<PolicyWatcher> {
  const watcher = new PolicyWatcher({
    kubeconfig: ctx.kubeconfig,
    client: ctx.client,
    cluster: ctx.id,
    prometheusUrl: environment().PROMETHEUS_URL,
    policySelector: ctx.policySelector,
    log: () => undefined,
    ...options,
  });
  ctx.onCleanup(() => watcher.stop());
  await watcher.start();
  return watcher;
}

/** When Temporal started the run of this target and policy (waits for it). */
async function startOf(
  ctx: BenchContext,
  target: TargetRef,
  policy: Pick<PolicyRef, 'kind' | 'namespace' | 'name'>,
) {
  const workflowId = remediationWorkflowId(ctx.id, target, policy);
  const description = await until(`the run ${workflowId}`, () =>
    ctx.client.workflow
      .getHandle(workflowId)
      .describe()
      .catch(() => undefined),
  );
  ctx.started(workflowId);
  return description.startTime.getTime();
}

/** Arrival times of watch events at a plain informer, by object name, once `arrived` holds. */
async function plainInformer<T extends KubernetesObject>(
  ctx: BenchContext,
  path: string,
  list: () => Promise<{ items: T[] }>,
  arrived: (object: T) => boolean,
): Promise<Map<string, number>> {
  const arrivals = new Map<string, number>();
  const informer = makeInformer<T>(ctx.kubeconfig, path, list as never);
  informer.on('update', (object) => {
    const name = object.metadata?.name ?? '';
    if (!arrivals.has(name) && arrived(object)) arrivals.set(name, Date.now());
  });
  ctx.onCleanup(() => informer.stop());
  await informer.start();
  return arrivals;
}

const crashLoopCondition = {
  name: 'crashing',
  source: 'Kubernetes',
  kubernetes: { state: 'CrashLoopBackOff' },
  operator: '>=',
  threshold: 1,
};

export async function kubernetesTriggers(
  ctx: BenchContext,
  { pods: podCount, nodes: nodeCount }: { pods: number; nodes: number },
): Promise<Figure[]> {
  const namespace = await ctx.namespace('p1a');
  const node = await ctx.node('p1a-pods');
  const podNames = Array.from({ length: podCount }, (_, i) => `crashy-${i}`);
  await ctx.pods(namespace, podNames, node, () => ({ bench: 'p1a' }), true);
  const nodeNames: string[] = [];
  for (let i = 0; i < nodeCount; i++)
    nodeNames.push(await ctx.node(`p1a-${i}`, { 'kubemedic.io/bench-p1a': 'node' }));
  await ctx.policy('RemediationPolicy', 'p1a-pods', namespace, {
    target: { kind: 'Pod', selector: { matchLabels: { bench: 'p1a' } } },
    evaluationInterval: '5m',
    conditions: [crashLoopCondition],
    actions: [{ type: 'RestartPod' }],
    approval: approvalNobodyGives,
  });
  await ctx.policy('ClusterRemediationPolicy', `${ctx.id}-p1a-nodes`, undefined, {
    target: {
      kind: 'Node',
      selector: { matchLabels: { 'kubemedic.io/bench-p1a': 'node', 'kubemedic.io/bench-run': ctx.id } },
    },
    evaluationInterval: '5m',
    conditions: [
      {
        name: 'not-ready',
        source: 'Kubernetes',
        kubernetes: { state: 'NodeNotReady' },
        operator: '>=',
        threshold: 1,
      },
    ],
    actions: [{ type: 'CordonNode' }],
    approval: approvalNobodyGives,
  });
  const ready = (n: V1Node) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  for (const name of nodeNames)
    await until(`${name} Ready`, async () => (ready(await ctx.core.readNode({ name })) ? true : undefined));
  const podArrivals = await plainInformer<V1Pod>(
    ctx,
    `/api/v1/namespaces/${namespace}/pods`,
    () => ctx.core.listNamespacedPod({ namespace }),
    (p) => p.status?.containerStatuses?.some((s) => s.state?.waiting?.reason === 'CrashLoopBackOff') ?? false,
  );
  const nodeArrivals = await plainInformer<V1Node>(
    ctx,
    '/api/v1/nodes',
    () => ctx.core.listNode({ labelSelector: ctx.policySelector }),
    (n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False') ?? false,
  );
  // Let KWOK go of the nodes first (it would write them Ready again), as a kubelet that stops reporting.
  for (const name of nodeNames)
    await ctx.core.patchNode(
      { name, body: { metadata: { annotations: { 'kwok.x-k8s.io/status': 'custom' } } } },
      strategicMerge,
    );
  await benchWatcher(ctx);
  await sleep(3_000); // every policy evaluated once, with nothing to do

  const pod = { starts: [] as number[], watch: [] as number[] };
  for (const name of podNames) {
    const at = Date.now();
    await ctx.core.patchNamespacedPodStatus({
      name,
      namespace,
      body: [
        { op: 'add', path: '/status/phase', value: 'Running' },
        {
          op: 'add',
          path: '/status/containerStatuses',
          value: [
            {
              name: 'app',
              image: 'example.com/app:1',
              imageID: '',
              ready: false,
              restartCount: 5,
              state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' } },
            },
          ],
        },
      ],
    });
    const started = await startOf(
      ctx,
      { kind: 'Pod', namespace, name },
      { kind: 'RemediationPolicy', namespace, name: 'p1a-pods' },
    );
    pod.starts.push(started - at);
    pod.watch.push((await until(`the watch event of ${name}`, () => podArrivals.get(name))) - at);
  }
  const node_ = { starts: [] as number[], watch: [] as number[] };
  for (const name of nodeNames) {
    const now = new Date();
    const at = Date.now();
    const notReady = {
      type: 'Ready',
      status: 'False',
      reason: 'KubeletNotReady',
      message: 'bench',
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    };
    await ctx.core.patchNodeStatus({ name, body: { status: { conditions: [notReady] } } }, strategicMerge);
    const started = await startOf(
      ctx,
      { kind: 'Node', name },
      { kind: 'ClusterRemediationPolicy', name: `${ctx.id}-p1a-nodes` },
    );
    node_.starts.push(started - at);
    node_.watch.push((await until(`the watch event of ${name}`, () => nodeArrivals.get(name))) - at);
  }
  return [
    ...triggerFigures('P1a', 'Pod CrashLoopBackOff → run started', pod),
    ...triggerFigures('P1a', 'Node NotReady → run started', node_),
  ];
}

/** p50 and p99 of trigger → start against the watch event's own latency; goal: p99 ≤ 250 ms and ≤ 2× the watch. */
function triggerFigures(id: string, what: string, samples: { starts: number[]; watch: number[] }): Figure[] {
  const starts = summarize(samples.starts);
  const watch = summarize(samples.watch);
  const detail = { samples: starts.n, starts, watch };
  return (['p50', 'p99'] as const).map((p) => ({
    id,
    what: `${what}, ${p}`,
    unit: 'ms',
    value: starts[p],
    baseline: { what: `watch event at a plain informer, ${p}`, value: watch[p] },
    goal:
      p === 'p99'
        ? { text: '≤ 250 ms and ≤ 2× the watch', met: starts.p99 <= 250 && starts.p99 <= 2 * watch.p99 }
        : undefined,
    detail,
  }));
}

export async function prometheusTriggers(
  ctx: BenchContext,
  { samples }: { samples: number },
): Promise<Figure[]> {
  const namespace = await ctx.namespace('p1b');
  const metric = 'kubemedic_bench_signal';
  const name = (i: number) => `signal-${i}`;
  for (let i = 0; i < samples; i++) await idleDeployment(ctx, namespace, name(i), 'p1b');
  const query = `${metric}{namespace="${namespace}"}`;
  await ctx.policy('RemediationPolicy', 'p1b', namespace, {
    target: { kind: 'Deployment', selector: { matchLabels: { bench: 'p1b' } } },
    evaluationInterval: '1s',
    conditions: [{ name: 'signal', source: 'Prometheus', prometheus: { query }, threshold: 0.5 }],
    actions: [{ type: 'Scale', scale: { replicas: 1 } }],
    approval: approvalNobodyGives,
  });
  await benchWatcher(ctx);
  await sleep(2_000); // the watcher sees the targets and evaluates once

  const starts: number[] = [];
  const queries: number[] = [];
  for (let i = 0; i < samples; i++) {
    // Breach at a random point of the interval, as real triggers do.
    await sleep(Math.random() * 1_000);
    const at = Date.now();
    await remoteWrite([
      { labels: { __name__: metric, namespace, deployment: name(i) }, value: 1, timestampMs: at },
    ]);
    const started = await startOf(
      ctx,
      { kind: 'Deployment', namespace, name: name(i) },
      { kind: 'RemediationPolicy', namespace, name: 'p1b' },
    );
    starts.push(started - at);
    const queried = performance.now();
    await instantQuery(environment().PROMETHEUS_URL, query);
    queries.push(performance.now() - queried);
  }
  const start = summarize(starts);
  const round = summarize(queries);
  const limit = 1_000 + 2 * round.p99;
  return (['p50', 'p99'] as const).map((p) => ({
    id: 'P1b',
    what: `Prometheus breach → run started (1 s interval), ${p}`,
    unit: 'ms',
    value: start[p],
    baseline: { what: `one instant query's round trip, ${p}`, value: round[p] },
    goal:
      p === 'p99'
        ? { text: `≤ interval + 2 × query p99 (${limit.toFixed(0)} ms)`, met: start.p99 <= limit }
        : undefined,
    detail: { starts: start, queries: round },
  }));
}

export async function alertTriggers(ctx: BenchContext, { samples }: { samples: number }): Promise<Figure[]> {
  const namespace = await ctx.namespace('p1c');
  const alertname = `KubeMedicBench${ctx.id.replace(/[^a-z0-9]/g, '')}`;
  const name = (i: number) => `alerted-${i}`;
  for (let i = 0; i < samples; i++) await idleDeployment(ctx, namespace, name(i), 'p1c');
  await ctx.policy('RemediationPolicy', 'p1c', namespace, {
    target: { kind: 'Deployment', selector: { matchLabels: { bench: 'p1c' } } },
    evaluationInterval: '5m',
    conditions: [
      {
        name: 'alerted',
        source: 'Alertmanager',
        alertmanager: { matchers: [`alertname="${alertname}"`] },
        operator: '>',
        threshold: 0,
      },
    ],
    actions: [{ type: 'Scale', scale: { replicas: 1 } }],
    approval: approvalNobodyGives,
  });
  const tokenFile = ensureAlertReceiverToken();
  const watcher = await benchWatcher(ctx, { alertReceiver: { port: 0, auth: { mode: 'token', tokenFile } } });
  const token = readFileSync(tokenFile, 'utf8').trim();
  await sleep(3_000); // every policy evaluated once, with nothing to do

  const starts: number[] = [];
  const posts: number[] = [];
  for (let i = 0; i < samples; i++) {
    const firing = {
      status: 'firing',
      labels: { alertname, namespace, deployment: name(i) },
      annotations: {},
      startsAt: new Date().toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://bench',
      fingerprint: `${ctx.id}-${i}`,
    };
    const payload = {
      version: '4',
      groupKey: `{}:{alertname="${alertname}"}`,
      status: 'firing',
      receiver: 'kubemedic',
      groupLabels: { alertname },
      commonLabels: { alertname },
      externalURL: 'http://bench',
      alerts: [firing],
    };
    const at = Date.now();
    const response = await fetch(`http://127.0.0.1:${watcher.alertWebhookPort}/alertmanager`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(payload),
    });
    posts.push(Date.now() - at);
    if (!response.ok) throw new Error(`the receiver answered ${response.status}: ${await response.text()}`);
    const started = await startOf(
      ctx,
      { kind: 'Deployment', namespace, name: name(i) },
      { kind: 'RemediationPolicy', namespace, name: 'p1c' },
    );
    starts.push(started - at);
  }
  const start = summarize(starts);
  const post = summarize(posts);
  return (['p50', 'p99'] as const).map((p) => ({
    id: 'P1c',
    what: `Alertmanager webhook received → run started, ${p}`,
    unit: 'ms',
    value: start[p],
    baseline: { what: `the POST's own round trip, ${p}`, value: post[p] },
    goal: p === 'p99' ? { text: '≤ 100 ms', met: start.p99 <= 100 } : undefined,
    detail: { starts: start, posts: post },
  }));
}

/** A Deployment of 0 replicas: a target that costs nothing to run. */
export async function idleDeployment(ctx: BenchContext, namespace: string, name: string, bench: string) {
  const labels = { app: name };
  await ctx.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name, labels: { ...labels, bench } },
      spec: {
        replicas: 0,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'app', image: 'example.com/app:1' }] },
        },
      },
    },
  });
}

/**
 * P6: the worker process's RSS, idle and with many runs awaiting approval. The worker runs as
 * `worker/main.ts` in a process of its own, as the chart runs it (from the sources here; the
 * built worker is bench/process-start.ts's subject), on this bench run's own cluster name and
 * task queue. Its RSS is read from /proc; idle is taken once it answers /healthz and has
 * settled, the loaded figure once every run reports AwaitingApproval.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { group, policyKinds, version } from '../api/policy.ts';
import { environment } from '../devstack/stack.ts';
import { searchAttributes } from '../domain/search-attributes.ts';
import { checkPolicy, startRemediation } from '../policy-watcher/index.ts';
import type { PolicyObject } from '../policy-watcher/policies.ts';
import { type BenchContext, neverFires } from './context.ts';
import { type Figure, inParallel, mb, until } from './measure.ts';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** The largest RSS of the process over `seconds`, read from /proc once a second. */
async function peakRss(pid: number, seconds: number): Promise<number> {
  let peak = 0;
  for (let s = 0; s < seconds; s++) {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    peak = Math.max(peak, kb * 1024);
    await sleep(1_000);
  }
  return peak;
}

export async function workerMemory(ctx: BenchContext, { runs }: { runs: number }): Promise<Figure[]> {
  const namespace = await ctx.namespace('p6');
  await ctx.policy('RemediationPolicy', 'p6', namespace, {
    target: { kind: 'Deployment', selector: { matchLabels: { bench: 'p6' } } },
    conditions: [neverFires],
    actions: [{ type: 'Scale', scale: { replicas: 1 } }],
    approval: { required: true, timeout: '1h' },
    limits: { maxConcurrent: runs + 10, maxPerHour: 100_000 },
  });
  const object = await ctx.custom.getNamespacedCustomObject({
    group,
    version,
    plural: policyKinds.RemediationPolicy.plural,
    namespace,
    name: 'p6',
  });
  const check = checkPolicy('RemediationPolicy', object as PolicyObject);
  if (!check.valid) throw new Error(`the bench's policy is invalid: ${check.reason}`);

  const metricsPort = await freePort();
  const worker = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    env: {
      ...process.env,
      KUBECONFIG: environment().KUBECONFIG,
      TEMPORAL_ADDRESS: environment().TEMPORAL_ADDRESS,
      KUBEMEDIC_CLUSTER: ctx.id,
      KUBEMEDIC_METRICS_PORT: String(metricsPort),
      KUBEMEDIC_SDK_METRICS_PORT: String(await freePort()),
      KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT: 'false',
      KUBEMEDIC_MAX_CONCURRENT: String(runs + 10),
      KUBEMEDIC_MAX_PER_HOUR: '100000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  ctx.onCleanup(async () => {
    if (worker.exitCode !== null) return;
    worker.kill('SIGTERM');
    await Promise.race([new Promise((resolve) => worker.once('exit', resolve)), sleep(15_000)]);
    if (worker.exitCode === null) worker.kill('SIGKILL');
  });
  await until(
    'the worker to answer /healthz',
    async () =>
      (await fetch(`http://127.0.0.1:${metricsPort}/healthz`).catch(() => undefined))?.ok ? true : undefined,
    { timeoutMs: 180_000, everyMs: 500 },
  );
  await sleep(5_000);
  const idle = await peakRss(worker.pid!, 10);

  const targets = Array.from({ length: runs }, (_, i) => `waiting-${i}`);
  await inParallel(targets, 10, async (name) => {
    const target = { kind: 'Deployment' as const, namespace, name };
    ctx.started(await startRemediation(ctx.client, ctx.id, check.policy, target, [], new Date()));
  });
  const query =
    `${searchAttributes.cluster.name} = "${ctx.id}" AND ${searchAttributes.phase.name} = "AwaitingApproval" ` +
    `AND ExecutionStatus = "Running"`;
  await until(
    `${runs} runs awaiting approval`,
    async () => ((await ctx.client.workflow.count(query)).count >= runs ? true : undefined),
    { timeoutMs: 900_000, everyMs: 5_000 },
  );
  const loaded = await peakRss(worker.pid!, 15);
  return [
    {
      id: 'P6',
      what: `worker RSS with ${runs} runs awaiting approval`,
      unit: 'MB',
      value: mb(loaded),
      baseline: { what: 'the same worker idle', value: mb(idle) },
      goal: runs >= 1000 ? { text: '< 400 MB at 1,000', met: mb(loaded) < 400 } : undefined,
    },
  ];
}

/**
 * P5: one watcher over many KWOK Pods and many policies, at a 15 s evaluation interval. Each
 * configuration runs in a fresh watcher process (bench/watcher-probe.ts), so its CPU time and
 * RSS are its own; the baseline is the same process over the same Pods with no policy selected
 * (its informers alone). Pods are added size by size (1k, then up to 3k, ...), and every size is
 * measured with each policy count. Sizes beyond what was measured are extrapolated linearly
 * from the last two measured sizes, and said to be extrapolated.
 *
 * Every Pod carries `group=g<i mod 100>`; with P policies, policy j selects the groups g ≡ j
 * (mod P) through an `In` expression, so every Pod is a target of exactly one policy whatever P.
 */
import { fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { benchRunLabel, type BenchContext } from './context.ts';
import { type Figure, mb, until } from './measure.ts';

const groups = 100;
const probeLabel = 'kubemedic.io/bench-p5';

interface Reading {
  cpuSeconds: number;
  evaluations: number;
  peakRssBytes: number;
}

/** A fresh watcher process evaluating the policies `selector` picks, measured over `seconds`. */
async function probe(ctx: BenchContext, selector: string, seconds: number): Promise<Reading> {
  const child = fork(fileURLToPath(new URL('./watcher-probe.ts', import.meta.url)), [ctx.id, selector], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) =>
    child.on('exit', (code) => reject(new Error(`the watcher process exited (${code}) before it answered`))),
  );
  const next = <T>() =>
    Promise.race([new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T))), exited]);
  try {
    await next<{ ready: true }>();
    // The first evaluation of every policy happens at once; let it pass before the window opens.
    await sleep(5_000);
    child.send({ measure: seconds });
    return await next<Reading>();
  } finally {
    child.send({ stop: true });
    await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(10_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

export async function watcherScale(
  ctx: BenchContext,
  { sizes, policies, windowSeconds }: { sizes: number[]; policies: number[]; windowSeconds: number },
): Promise<Figure[]> {
  const namespace = await ctx.namespace('p5');
  const node = await ctx.node('p5');
  for (const count of policies) {
    for (let j = 0; j < count; j++) {
      const values = Array.from({ length: groups }, (_, g) => g)
        .filter((g) => g % count === j)
        .map((g) => `g${g}`);
      await ctx.policy(
        'RemediationPolicy',
        `p5-${count}-${j}`,
        namespace,
        {
          target: { kind: 'Pod', selector: { matchExpressions: [{ key: 'group', operator: 'In', values }] } },
          evaluationInterval: '15s',
          conditions: [
            {
              name: 'crashing',
              source: 'Kubernetes',
              kubernetes: { state: 'CrashLoopBackOff' },
              operator: '>=',
              threshold: 1,
            },
          ],
          actions: [{ type: 'RestartPod' }],
          approval: { required: true, timeout: '1h' },
        },
        { [probeLabel]: String(count) },
      );
    }
  }

  const measured: { size: number; policies: number; reading: Reading; base: Reading }[] = [];
  let created = 0;
  for (const size of sizes) {
    const names = Array.from({ length: size - created }, (_, i) => `pod-${created + i}`);
    const startedAt = Date.now();
    await ctx.pods(namespace, names, node, (i) => ({ group: `g${(created + i) % groups}` }));
    created = size;
    await until(
      `${size} Pods Running`,
      async () =>
        (await ctx.core.listNamespacedPod({ namespace, fieldSelector: 'status.phase!=Running', limit: 1 }))
          .items.length === 0
          ? true
          : undefined,
      { timeoutMs: 600_000, everyMs: 2_000 },
    );
    console.error(
      `P5: ${size} Pods Running (${((Date.now() - startedAt) / 1000).toFixed(0)} s to add ${names.length})`,
    );
    const base = await probe(ctx, `${benchRunLabel}=${ctx.id},${probeLabel}=none`, windowSeconds);
    for (const count of policies) {
      const reading = await probe(ctx, `${benchRunLabel}=${ctx.id},${probeLabel}=${count}`, windowSeconds);
      measured.push({ size, policies: count, reading, base });
    }
  }
  return figuresOf(measured, windowSeconds);
}

function figuresOf(
  measured: { size: number; policies: number; reading: Reading; base: Reading }[],
  windowSeconds: number,
): Figure[] {
  const cores = (r: Reading) => r.cpuSeconds / windowSeconds;
  const figures: Figure[] = [];
  for (const { size, policies, reading, base } of measured) {
    const perEvaluationMs =
      reading.evaluations > 0 ? ((reading.cpuSeconds - base.cpuSeconds) * 1000) / reading.evaluations : NaN;
    const detail = { evaluations: reading.evaluations, cpuPerEvaluationMs: perEvaluationMs, windowSeconds };
    const atGoalSize = size === 10_000 && policies === 100;
    figures.push(
      {
        id: 'P5',
        what: `watcher CPU, ${size} Pods × ${policies} policies (${perEvaluationMs.toFixed(1)} ms CPU per evaluation)`,
        unit: 'cores',
        value: cores(reading),
        baseline: { what: 'the same Pods, no policy', value: cores(base) },
        goal: atGoalSize ? { text: '< 0.2 core', met: cores(reading) < 0.2 } : undefined,
        detail,
      },
      {
        id: 'P5',
        what: `watcher RSS, ${size} Pods × ${policies} policies`,
        unit: 'MB',
        value: mb(reading.peakRssBytes),
        baseline: { what: 'the same Pods, no policy', value: mb(base.peakRssBytes) },
        goal: atGoalSize ? { text: '< 300 MB', met: mb(reading.peakRssBytes) < 300 } : undefined,
      },
    );
  }
  return [...figures, ...extrapolated(measured, cores)];
}

/** The last two sizes measured with the most policies, extended linearly to 10k (if not measured) and 100k. */
function extrapolated(
  measured: { size: number; policies: number; reading: Reading }[],
  cores: (r: Reading) => number,
): Figure[] {
  const most = Math.max(...measured.map((m) => m.policies));
  const points = measured.filter((m) => m.policies === most).slice(-2);
  if (points.length < 2) return [];
  const [a, b] = points as [(typeof points)[0], (typeof points)[0]];
  const line = (f: (r: Reading) => number) => (size: number) =>
    f(a.reading) + ((f(b.reading) - f(a.reading)) / (b.size - a.size)) * (size - a.size);
  const cpuAt = line(cores);
  const rssAt = line((r) => mb(r.peakRssBytes));
  const targets = [10_000, 100_000].filter((size) => size > b.size);
  return targets.flatMap((size) => {
    const goal = size === 10_000 && most === 100;
    const from = `extrapolated from ${a.size} and ${b.size} Pods`;
    return [
      {
        id: 'P5',
        what: `watcher CPU, ${size} Pods × ${most} policies, ${from}`,
        unit: 'cores',
        value: cpuAt(size),
        goal: goal ? { text: '< 0.2 core', met: cpuAt(size) < 0.2 } : undefined,
      },
      {
        id: 'P5',
        what: `watcher RSS, ${size} Pods × ${most} policies, ${from}`,
        unit: 'MB',
        value: rssAt(size),
        goal: goal ? { text: '< 300 MB', met: rssAt(size) < 300 } : undefined,
      },
    ];
  });
}

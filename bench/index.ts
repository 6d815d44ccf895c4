/**
 * `npm run bench`: KubeMedic's benchmark suite on the local stack. Each benchmark runs beside
 * its baseline in the same run; the suite prints one table (figure, baseline, ratio, goal, met?)
 * with the machine and the versions, and writes it all as JSON.
 *
 *   npm run bench [-- --only P1a,P2] [--out bench/results/x.json] [--<count> N ...]
 *
 * Counts (defaults finish in about 10–15 minutes on 2 cores): see `defaults` below. The suite
 * removes what it creates (namespaces, KWOK nodes and Pods, policies, workflows) even when a
 * benchmark fails; a failed benchmark is reported as such and the others still run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { VersionApi } from '@kubernetes/client-node';
import { Connection } from '@temporalio/client';
import { environment, loadKubeconfig } from '../devstack/stack.ts';
import { BenchContext } from './context.ts';
import { type Figure, ratioOf } from './measure.ts';
import { permitLatency } from './permit-latency.ts';
import { remediationCost } from './remediation-cost.ts';
import { alertTriggers, kubernetesTriggers, prometheusTriggers } from './triggers.ts';
import { watcherScale } from './watcher-scale.ts';
import { workerMemory } from './worker-memory.ts';

const defaults = {
  'p1a-pods': 20,
  'p1a-nodes': 5,
  'p1b-samples': 15,
  'p1c-samples': 20,
  'p2-runs': 40,
  'p3-runs': 10,
  'p4-storm': 20,
  'p5-window': 30,
  'p6-runs': 1000,
};
/** Pod counts and policy counts of P5 (lists, so not in `defaults`). */
const listDefaults = { 'p5-sizes': [1_000, 3_000], 'p5-policies': [10, 100] };
type Counts = Record<keyof typeof defaults, number>;

const benchmarks: { ids: string[]; run: (ctx: BenchContext, counts: Counts) => Promise<Figure[]> }[] = [
  { ids: ['P1a'], run: (ctx, c) => kubernetesTriggers(ctx, { pods: c['p1a-pods'], nodes: c['p1a-nodes'] }) },
  { ids: ['P1b'], run: (ctx, c) => prometheusTriggers(ctx, { samples: c['p1b-samples'] }) },
  { ids: ['P1c'], run: (ctx, c) => alertTriggers(ctx, { samples: c['p1c-samples'] }) },
  { ids: ['P2'], run: (ctx, c) => permitLatency(ctx, { runs: c['p2-runs'] }) },
  {
    ids: ['P3', 'P4'],
    run: (ctx, c) => remediationCost(ctx, { runs: c['p3-runs'], storm: c['p4-storm'] }),
  },
  { ids: ['P6'], run: (ctx, c) => workerMemory(ctx, { runs: c['p6-runs'] }) },
  {
    ids: ['P5'],
    run: (ctx, c) =>
      watcherScale(ctx, {
        sizes: lists['p5-sizes'],
        policies: lists['p5-policies'],
        windowSeconds: c['p5-window'],
      }),
  },
];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    out: { type: 'string' },
    ...Object.fromEntries(
      [...Object.keys(defaults), ...Object.keys(listDefaults)].map((key) => [
        key,
        { type: 'string' as const },
      ]),
    ),
  },
});
const counts = Object.fromEntries(
  Object.entries(defaults).map(([key, fallback]) => {
    const given = (values as Record<string, string | undefined>)[key];
    const count = given === undefined ? fallback : Number(given);
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`--${key} must be a whole number ≥ 1, not ${given}`);
    return [key, count];
  }),
) as Counts;
const lists = Object.fromEntries(
  Object.entries(listDefaults).map(([key, fallback]) => {
    const given = (values as Record<string, string | undefined>)[key];
    const list = given === undefined ? fallback : given.split(',').map(Number);
    if (!list.every((n) => Number.isInteger(n) && n >= 1))
      throw new Error(`--${key} must be whole numbers ≥ 1, comma-separated, not ${given}`);
    return [key, list];
  }),
) as Record<keyof typeof listDefaults, number[]>;
const only = values.only?.split(',').map((id) => id.trim());
const known = benchmarks.flatMap((b) => b.ids);
const unknown = only?.filter((id) => !known.includes(id)) ?? [];
if (unknown.length > 0)
  throw new Error(`--only: no benchmark ${unknown.join(', ')}; there are ${known.join(', ')}`);
const out = values.out ?? `bench/results/${new Date().toISOString().slice(0, 19).replaceAll(':', '-')}.json`;

const log = (line: string) => console.error(line);
const figures: Figure[] = [];
const failures: { ids: string[]; error: string }[] = [];
const began = Date.now();
for (const benchmark of benchmarks) {
  if (only && !benchmark.ids.some((id) => only.includes(id))) continue;
  const started = Date.now();
  log(`${benchmark.ids.join('/')}: running`);
  // A context per benchmark: its watchers, workers and objects are gone before the next one runs.
  const ctx = await BenchContext.open();
  try {
    figures.push(...(await benchmark.run(ctx, counts)));
    log(`${benchmark.ids.join('/')}: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    failures.push({ ids: benchmark.ids, error: message });
    log(`${benchmark.ids.join('/')}: FAILED: ${message}`);
  } finally {
    await ctx.cleanup(log);
  }
}

const report = {
  date: new Date(began).toISOString(),
  durationSeconds: Math.round((Date.now() - began) / 1000),
  machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1) },
  versions: await versions(),
  counts: { ...counts, ...lists },
  figures: figures.map((f) => ({ ...f, ratio: ratioOf(f) })),
  failures,
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
printTable(report);
console.log(`\nJSON: ${out}`);
process.exitCode = failures.length > 0 ? 1 : 0;

async function versions(): Promise<Record<string, string>> {
  const pkg = (name: string) =>
    (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
  const answer = async (what: () => Promise<string | undefined>) =>
    (await what().catch(() => undefined)) ?? '?';
  return {
    node: process.version,
    '@temporalio/client': pkg('@temporalio/client'),
    '@kubernetes/client-node': pkg('@kubernetes/client-node'),
    'kube-apiserver': await answer(
      async () => (await loadKubeconfig().makeApiClient(VersionApi).getCode()).gitVersion,
    ),
    temporal: await answer(async () => {
      const connection = await Connection.connect({ address: environment().TEMPORAL_ADDRESS });
      try {
        return (await connection.workflowService.getSystemInfo({})).serverVersion ?? undefined;
      } finally {
        await connection.close();
      }
    }),
    prometheus: await answer(async () => {
      const response = await fetch(`${environment().PROMETHEUS_URL}/api/v1/status/buildinfo`);
      return ((await response.json()) as { data?: { version?: string } }).data?.version;
    }),
  };
}

function printTable(r: typeof report): void {
  const number = (n: number | undefined, unit = '') =>
    n === undefined ? '—' : `${n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)}${unit}`;
  const rows = r.figures.map((f) => [
    f.id,
    f.what,
    number(f.value, ` ${f.unit}`),
    f.baseline ? `${number(f.baseline.value, ` ${f.unit}`)} (${f.baseline.what})` : '—',
    f.ratio === undefined ? '—' : `${f.ratio.toFixed(2)}×`,
    f.goal?.text ?? '—',
    f.goal === undefined ? '—' : f.goal.met ? 'yes' : 'NO',
  ]);
  const header = ['id', 'figure', 'value', 'baseline (same run)', 'ratio', 'goal', 'met?'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' │ ');
  console.log(`\nKubeMedic bench, ${r.date} (${r.durationSeconds} s)`);
  console.log(`machine: ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, ${r.machine.cpu}`);
  console.log(
    `versions: ${Object.entries(r.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  console.log(
    `counts: ${Object.entries(r.counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}\n`,
  );
  console.log(line(header));
  console.log(widths.map((w) => '─'.repeat(w)).join('─┼─'));
  for (const row of rows) console.log(line(row));
  for (const failure of r.failures)
    console.log(`\n${failure.ids.join('/')} FAILED: ${failure.error.split('\n')[0]}`);
}

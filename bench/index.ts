/**
 * `npm run bench`: KubeMedic's benchmark suite on the local stack. Each benchmark runs beside
 * its baseline in the same run; the suite prints one table (figure, baseline, ratio, goal, met?)
 * with the machine and the versions, and writes it all as JSON.
 *
 *   npm run bench [-- --only P1a,P2] [--out bench/results/x.json] [--<count> N ...]
 *
 * The benchmarks that measure Temporal itself (P2–P4) run once on each of the stack's Temporal
 * servers, the dev server and the production-shaped temporal-server on PostgreSQL, and a second
 * table prints their figures side by side.
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
import { type TemporalServer, temporalServers } from '../devstack/environment.ts';
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

/** `onEachTemporal`: measured once per Temporal server (temporalServers), else on the dev server only. */
const benchmarks: {
  ids: string[];
  onEachTemporal?: boolean;
  run: (ctx: BenchContext, counts: Counts) => Promise<Figure[]>;
}[] = [
  { ids: ['P1a'], run: (ctx, c) => kubernetesTriggers(ctx, { pods: c['p1a-pods'], nodes: c['p1a-nodes'] }) },
  { ids: ['P1b'], run: (ctx, c) => prometheusTriggers(ctx, { samples: c['p1b-samples'] }) },
  { ids: ['P1c'], run: (ctx, c) => alertTriggers(ctx, { samples: c['p1c-samples'] }) },
  { ids: ['P2'], onEachTemporal: true, run: (ctx, c) => permitLatency(ctx, { runs: c['p2-runs'] }) },
  {
    ids: ['P3', 'P4'],
    onEachTemporal: true,
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
const failures: { ids: string[]; temporal: TemporalServer['label']; error: string }[] = [];
const began = Date.now();
const [devServer] = temporalServers;
for (const benchmark of benchmarks) {
  if (only && !benchmark.ids.some((id) => only.includes(id))) continue;
  for (const temporal of benchmark.onEachTemporal ? temporalServers : [devServer]) {
    const name = `${benchmark.ids.join('/')}${benchmark.onEachTemporal ? ` on the ${temporal.label}` : ''}`;
    const started = Date.now();
    log(`${name}: running`);
    // A context per benchmark: its watchers, workers and objects are gone before the next one runs.
    const ctx = await BenchContext.open(temporal.address());
    try {
      const measured = await benchmark.run(ctx, counts);
      figures.push(
        ...measured.map((f) => (benchmark.onEachTemporal ? { ...f, temporal: temporal.label } : f)),
      );
      log(`${name}: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push({ ids: benchmark.ids, temporal: temporal.label, error: message });
      log(`${name}: FAILED: ${message}`);
    } finally {
      await ctx.cleanup(log);
    }
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
    ...Object.fromEntries(
      await Promise.all(
        temporalServers.map(async ({ label, address }) => [
          `Temporal (${label})`,
          await answer(async () => {
            const connection = await Connection.connect({ address: address() });
            try {
              return (await connection.workflowService.getSystemInfo({})).serverVersion ?? undefined;
            } finally {
              await connection.close();
            }
          }),
        ]),
      ),
    ),
    prometheus: await answer(async () => {
      const response = await fetch(`${environment().PROMETHEUS_URL}/api/v1/status/buildinfo`);
      return ((await response.json()) as { data?: { version?: string } }).data?.version;
    }),
  };
}

/** A figure for the table: three significant digits at most, with its unit. */
function number(n: number | undefined, unit = ''): string {
  return n === undefined ? '—' : `${n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)}${unit}`;
}

/** A table in columns as wide as their widest cell. */
function printRows(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' │ ');
  console.log(line(header));
  console.log(widths.map((w) => '─'.repeat(w)).join('─┼─'));
  for (const row of rows) console.log(line(row));
}

function printTable(r: typeof report): void {
  // The main table: every figure of the dev server (the production-shaped server's are in the next).
  const rows = r.figures
    .filter((f) => f.temporal === undefined || f.temporal === devServer.label)
    .map((f) => [
      f.id,
      f.what,
      number(f.value, ` ${f.unit}`),
      f.baseline ? `${number(f.baseline.value, ` ${f.unit}`)} (${f.baseline.what})` : '—',
      f.ratio === undefined ? '—' : `${f.ratio.toFixed(2)}×`,
      f.goal?.text ?? '—',
      f.goal === undefined ? '—' : f.goal.met ? 'yes' : 'NO',
    ]);
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
  printRows(['id', 'figure', 'value', 'baseline (same run)', 'ratio', 'goal', 'met?'], rows);
  printSideBySide(r.figures);
  for (const failure of r.failures)
    console.log(
      `\n${failure.ids.join('/')} on the ${failure.temporal} FAILED: ${failure.error.split('\n')[0]}`,
    );
}

/**
 * The figures measured on each Temporal server, one row per figure, one column per server; each
 * cell is the figure and, in brackets, its baseline on that same server.
 */
function printSideBySide(all: Figure[]): void {
  const [dev, production] = temporalServers.map((server) => all.filter((f) => f.temporal === server.label));
  if (!dev?.length || !production?.length) return;
  const cell = (f: Figure | undefined) =>
    f === undefined
      ? '—'
      : `${number(f.value, ` ${f.unit}`)}${f.baseline ? ` (${number(f.baseline.value, ` ${f.unit}`)})` : ''}`;
  const rows = dev.map((f) => {
    const other = production.find((p) => p.id === f.id && p.what === f.what);
    return [
      f.id,
      f.what,
      cell(f),
      cell(other),
      other && f.value !== 0 ? `${(other.value / f.value).toFixed(2)}×` : '—',
    ];
  });
  console.log(
    '\nTemporal servers side by side: figure (its baseline on that server); ratio = production-shaped / dev\n',
  );
  printRows(['id', 'figure', ...temporalServers.map((server) => server.label), 'ratio'], rows);
}

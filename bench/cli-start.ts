/**
 * `npm run bench:cli`: how long `kubemedic` takes to start, from the checkout (bin/kubemedic:
 * tsx compiling cli/main.ts on every call) and as the built package (dist/cli, built
 * first). Each command runs RUNS times after one warm-up, one process at a time, as hyperfine
 * would; prints min, p50 and p90 of the wall time, and the p50 of the CPU time, in milliseconds.
 *
 * `--version` and `list --help` need nothing running; `list --limit 1` also connects to Temporal
 * (source .devstack/env first), so it is measured only when TEMPORAL_ADDRESS is set.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, repoRoot } from '../cli/package/build.ts';

const runs = Number(process.env.RUNS ?? 15);

const { dir } = await buildCli();
/** [name, program, its arguments before the command's] */
const launchers: [string, string, string[]][] = [
  ['bin/kubemedic', join(repoRoot, 'bin/kubemedic'), []],
  ['bundle', process.execPath, [join(dir, 'kubemedic.mjs')]],
];
const commands = [['--version'], ['list', '--help']];
if (process.env.TEMPORAL_ADDRESS) commands.push(['list', '--limit', '1']);

// Wall time depends on what else runs: the load average says how busy the machine was.
const load = () => loadavg()[0]!.toFixed(1);
console.log(`${runs} runs each, after one warm-up; milliseconds; load average ${load()} at the start`);
// CPU time (user + system, the launcher's children included) barely depends on the load: GNU
// time measures it where it is installed.
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const cpuFile = join(mkdtempSync(join(tmpdir(), 'kubemedic-bench-')), 'cpu');
console.log(
  ['launcher'.padEnd(14), 'command'.padEnd(16), 'min', 'p50', 'p90', ...(gnuTime ? ['cpu p50'] : [])].join(
    '\t',
  ),
);
for (const args of commands) {
  for (const [name, program, launcher] of launchers) {
    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const [command, commandArgs] = gnuTime
        ? [gnuTime, ['-f', '%U %S', '-o', cpuFile, program, ...launcher, ...args]]
        : [program, [...launcher, ...args]];
      const started = performance.now();
      const result = spawnSync(command, commandArgs, { cwd: tmpdir(), stdio: 'pipe' });
      const elapsed = performance.now() - started;
      if (result.status !== 0) {
        throw new Error(`${name} ${args.join(' ')} exited ${result.status}: ${result.stderr.toString()}`);
      }
      if (i === 0) continue;
      times.push(elapsed);
      if (gnuTime) {
        const [user = 0, system = 0] = readFileSync(cpuFile, 'utf8').trim().split(' ').map(Number);
        cpu.push((user + system) * 1000);
      }
    }
    console.log(
      [name.padEnd(14), args.join(' ').padEnd(16), at(times, 0), at(times, 0.5), at(times, 0.9)]
        .concat(gnuTime ? [at(cpu, 0.5)] : [])
        .join('\t'),
    );
  }
}
console.log(`load average ${load()} at the end`);

/** The q-quantile of `values`, rounded to a millisecond. */
function at(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
}

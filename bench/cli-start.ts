/**
 * `npm run bench:cli`: how long `kubemedic` takes to start, from the checkout (bin/kubemedic:
 * tsx compiling cli/main.ts on every call) and as the built package (dist/cli, built
 * first). Each command runs RUNS times after one warm-up, one process at a time, as hyperfine
 * would; prints min, p50 and p90 in milliseconds.
 *
 * `--version` and `list --help` need nothing running; `list --limit 1` also connects to Temporal
 * (source .devstack/env first), so it is measured only when TEMPORAL_ADDRESS is set.
 */
import { spawnSync } from 'node:child_process';
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
console.log(['launcher'.padEnd(14), 'command'.padEnd(16), 'min', 'p50', 'p90'].join('\t'));
for (const args of commands) {
  for (const [name, program, launcher] of launchers) {
    const times: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const started = performance.now();
      const result = spawnSync(program, [...launcher, ...args], { cwd: tmpdir(), stdio: 'pipe' });
      const elapsed = performance.now() - started;
      if (result.status !== 0) {
        throw new Error(`${name} ${args.join(' ')} exited ${result.status}: ${result.stderr.toString()}`);
      }
      if (i > 0) times.push(elapsed);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))]!);
    console.log([name.padEnd(14), args.join(' ').padEnd(16), at(0), at(0.5), at(0.9)].join('\t'));
  }
}
console.log(`load average ${load()} at the end`);

/**
 * Start time and idle memory of the worker and the watcher processes, from the sources (tsx, the
 * workflow bundle made by webpack at start: how they ran before) and built (`npm run
 * build:processes`: plain node on dist/, the prebuilt workflow bundle: how the image runs them),
 * side by side in one run, each variant started in turn so load on the machine hits all alike.
 *
 *   npx tsx bench/process-start.ts [rounds, default 3] [idle seconds before RSS, default 10]
 *
 * Start: from spawn to the first 200 of /healthz (the worker: polling its task queue; the
 * watcher: every informer listed). Idle RSS: VmRSS from /proc after the idle wait. Each process
 * gets its own cluster name (so its own task queue) and a policy selector no policy has.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../devstack/config.ts';
import { environment, isUp, up } from '../devstack/stack.ts';
import { buildProcesses } from '../worker/build.ts';

const rounds = Number(process.argv[2] ?? 3);
const idleSeconds = Number(process.argv[3] ?? 10);

type Kind = 'worker' | 'watcher';
type From = 'source' | 'built';
const commands: Record<From, Record<Kind, string[]>> = {
  source: {
    worker: ['--import', 'tsx', 'worker/main.ts'],
    watcher: ['--import', 'tsx', 'policy-watcher/main.ts'],
  },
  built: { worker: ['dist/worker/main.js'], watcher: ['dist/policy-watcher/main.js'] },
};

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

async function healthy(port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before it was healthy`);
    const answer = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    if (answer?.ok) return;
    await sleep(10);
  }
}

/** One start of one variant: ms to healthy, MB resident once idle. */
async function measure(kind: Kind, from: From): Promise<{ startMs: number; rssMb: number }> {
  const metricsPort = await freePort();
  const env = {
    ...process.env,
    ...environment(),
    KUBEMEDIC_CLUSTER: `bench-start-${randomBytes(3).toString('hex')}`,
    KUBEMEDIC_METRICS_PORT: String(metricsPort),
    KUBEMEDIC_SDK_METRICS_PORT: String(await freePort()),
    KUBEMEDIC_ALERT_WEBHOOK_PORT: '0',
    KUBEMEDIC_ALERT_RECEIVER_AUTH: 'none',
    KUBEMEDIC_POLICY_SELECTOR: `kubemedic.io/bench=${randomBytes(3).toString('hex')}`,
    KUBEMEDIC_LOG_LEVEL: 'WARN',
  };
  const started = performance.now();
  const child = spawn(process.execPath, commands[from][kind], { cwd: repoRoot, env, stdio: 'ignore' });
  try {
    await healthy(metricsPort, child);
    const startMs = performance.now() - started;
    await sleep(idleSeconds * 1000);
    return { startMs, rssMb: rssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

if (!(await isUp())) await up(() => undefined);
await buildProcesses();
const results = new Map<string, { startMs: number[]; rssMb: number[] }>();
for (let round = 1; round <= rounds; round++) {
  for (const kind of ['worker', 'watcher'] as const) {
    for (const from of ['source', 'built'] as const) {
      const { startMs, rssMb } = await measure(kind, from);
      const entry = results.get(`${kind} ${from}`) ?? { startMs: [], rssMb: [] };
      entry.startMs.push(startMs);
      entry.rssMb.push(rssMb);
      results.set(`${kind} ${from}`, entry);
      process.stderr.write(
        `round ${round}: ${kind} from ${from}: ${Math.round(startMs)} ms, ${rssMb.toFixed(0)} MB\n`,
      );
    }
  }
}

const row = (...cells: (string | number)[]) => console.log(cells.map((c) => String(c).padEnd(14)).join(''));
console.log(
  `process start and idle RSS, median of ${rounds}, idle ${idleSeconds} s; node ${process.version}, ` +
    `${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
);
row('process', 'source start', 'built start', 'ratio', 'source RSS', 'built RSS', 'ratio');
for (const kind of ['worker', 'watcher'] as const) {
  const source = results.get(`${kind} source`)!;
  const built = results.get(`${kind} built`)!;
  const [s, b] = [median(source.startMs), median(built.startMs)];
  const [sr, br] = [median(source.rssMb), median(built.rssMb)];
  row(
    kind,
    `${Math.round(s)} ms`,
    `${Math.round(b)} ms`,
    `${(b / s).toFixed(2)}×`,
    `${sr.toFixed(0)} MB`,
    `${br.toFixed(0)} MB`,
    `${(br / sr).toFixed(2)}×`,
  );
}
console.log('(bench/process-start.ts; start = spawn → first 200 of /healthz)');

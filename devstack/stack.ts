/** Brings the local stack up and down, and says where everything is. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { allClusters } from './clusters.ts';
import { binary, paths, ports } from './config.ts';
import { installCrds } from './crds.ts';
import { environment, loadKubeconfig } from './environment.ts';
import { ensureFakeNodes } from './fake-nodes.ts';
import { stopKubeMedicProcesses } from './kubemedic-processes.ts';
import { ensurePki } from './pki.ts';
import { logFile, portIsFree, runningPid, startProcess, stopProcess, waitFor } from './processes.ts';
import { writeAlertmanagerConfig, writeKubeconfig, writePrometheusConfig } from './server-configs.ts';
import { type Server, servers, waves } from './servers.ts';

// Tests and benches reach the stack through this module: where it is, beside up and down.
export { environment, loadKubeconfig };

const healthTimeoutMs = 180_000;

async function startOrReuse(server: Server, log: (line: string) => void): Promise<void> {
  const path = binary(server.binary);
  if (runningPid(server.name) !== undefined) {
    log(`${server.name}: already running, reused`);
    return;
  }
  for (const port of server.ports) {
    if (!(await portIsFree(port))) {
      throw new Error(
        `${server.name} cannot start: port ${port} is taken by a process this stack did not start. ` +
          'Stop it, or move the stack with KUBEMEDIC_PORT_* (see devstack/config.ts).',
      );
    }
  }
  await server.prepare?.(log);
  startProcess(server.name, path, server.args(), undefined, undefined, server.runAs?.());
  log(`${server.name}: started (log ${logFile(server.name)})`);
}

/** Waits until the server is healthy, once what it must serve is in place (Server.onceRunning). */
async function becomesHealthy(server: Server): Promise<void> {
  await server.onceRunning?.();
  await waitFor(server.name, server.healthy, healthTimeoutMs);
}

export async function up(log: (line: string) => void = console.log): Promise<void> {
  const started = Date.now();
  for (const dir of [paths.state, paths.logs, paths.pids, paths.data, paths.config])
    mkdirSync(dir, { recursive: true });
  servers.forEach((server) => binary(server.binary)); // fail before starting anything when one is missing
  ensurePki();
  allClusters.forEach((cluster) => writeKubeconfig(cluster));
  writePrometheusConfig();
  writeAlertmanagerConfig();
  for (const wave of waves) {
    for (const server of wave) await startOrReuse(server, log);
    await Promise.all(wave.map(becomesHealthy));
  }
  // A Prometheus or Alertmanager that was already running reads the configuration written above.
  await fetch(`http://127.0.0.1:${ports.prometheus}/-/reload`, { method: 'POST' });
  await fetch(`http://127.0.0.1:${ports.alertmanager}/-/reload`, { method: 'POST' });
  for (const cluster of allClusters) {
    await ensureFakeNodes(loadKubeconfig(cluster));
    await installCrds(loadKubeconfig(cluster));
  }
  writeEnvFile();
  log(`devstack up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/** Starts one server of the stack that was stopped, and waits until it is healthy (the chaos tests stop them). */
export async function startServer(name: string, log: (line: string) => void = console.log): Promise<void> {
  const server = servers.find((s) => s.name === name);
  if (server === undefined)
    throw new Error(`no server ${name} in the stack (${servers.map((s) => s.name).join(', ')})`);
  await startOrReuse(server, log);
  await becomesHealthy(server);
}

export async function down(log: (line: string) => void = console.log): Promise<void> {
  await stopKubeMedicProcesses(log);
  for (const wave of [...waves].reverse()) {
    await Promise.all(
      wave.map(async (server) => {
        if (await stopProcess(server.name)) log(`${server.name}: stopped`);
      }),
    );
  }
}

export interface ServerStatus {
  name: string;
  pid: number | undefined;
  healthy: boolean;
  residentMiB: number | undefined;
  url: string;
}

export async function status(): Promise<ServerStatus[]> {
  return Promise.all(
    servers.map(async (server) => {
      const pid = runningPid(server.name);
      return {
        name: server.name,
        pid,
        healthy: pid !== undefined && (await server.healthy().catch(() => false)),
        residentMiB: pid === undefined ? undefined : residentMiB(pid),
        url: server.url,
      };
    }),
  );
}

export async function isUp(): Promise<boolean> {
  return (await status()).every((s) => s.healthy);
}

function residentMiB(pid: number): number | undefined {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : undefined;
}

function writeEnvFile(): void {
  const lines = Object.entries(environment()).map(([key, value]) => `export ${key}=${value}`);
  writeFileSync(paths.envFile, `${lines.join('\n')}\n`);
}

/**
 * Where the local stack keeps its state and which ports it uses. Every port can be moved with
 * an environment variable (KUBEMEDIC_PORT_<NAME>) when something else on the machine holds it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const defaultPorts = {
  etcd: 12379,
  etcdPeer: 12380,
  apiserver: 16443,
  controllerManager: 10257,
  scheduler: 10259,
  kwok: 10247,
  /** The second Kubernetes cluster (devstack/clusters.ts): its API server, controller-manager and KWOK. */
  apiserverB: 16444,
  controllerManagerB: 10267,
  kwokB: 10248,
  temporal: 7233,
  temporalUi: 8233,
  temporalHttp: 7243,
  temporalMetrics: 7235,
  /**
   * The production-shaped Temporal (devstack/temporal-server.ts) on its PostgreSQL (devstack/postgres.ts):
   * the frontend's gRPC and HTTP, the other services' gRPC, every service's membership port, metrics.
   */
  postgres: 15432,
  temporalServer: 17233,
  temporalServerHttp: 17243,
  temporalServerHistory: 17234,
  temporalServerMatching: 17235,
  temporalServerWorker: 17239,
  temporalServerFrontendMembership: 16933,
  temporalServerHistoryMembership: 16934,
  temporalServerMatchingMembership: 16935,
  temporalServerWorkerMembership: 16939,
  temporalServerMetrics: 17236,
  prometheus: 9090,
  alertmanager: 9093,
  /** Alerts labelled kubemedic_test_sink="true" are routed here, so tests can receive them. */
  alertSink: 18093,
  /** The policy watcher's Alertmanager webhook receiver. */
  watcherWebhook: 8091,
  /** KubeMedic's own processes when the demo runs them: /metrics and /healthz. */
  kubemedicWorker: 9464,
  kubemedicWatcher: 9465,
};
export type PortName = keyof typeof defaultPorts;

function portFromEnv(name: PortName): number {
  const variable = `KUBEMEDIC_PORT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
  const value = process.env[variable];
  if (value === undefined) return defaultPorts[name];
  const port = Number(value);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`${variable}=${value} is not a TCP port`);
  }
  return port;
}

export const ports = Object.fromEntries(
  (Object.keys(defaultPorts) as PortName[]).map((name) => [name, portFromEnv(name)]),
) as Record<PortName, number>;

export const stateDir = resolve(process.env.KUBEMEDIC_STATE ?? join(repoRoot, '.devstack'));
export const paths = {
  state: stateDir,
  logs: join(stateDir, 'logs'),
  pids: join(stateDir, 'pids'),
  pki: join(stateDir, 'pki'),
  data: join(stateDir, 'data'),
  config: join(stateDir, 'config'),
  prometheusRules: join(stateDir, 'config', 'prometheus-rules'),
  kubeconfig: join(stateDir, 'kubeconfig'),
  envFile: join(stateDir, 'env'),
};

export const buildCache = resolve(process.env.KUBEMEDIC_CACHE ?? join(homedir(), '.cache', 'kubemedic'));

export type BinaryName =
  | 'temporal'
  | 'etcd'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kwok'
  | 'helm'
  | 'prometheus'
  | 'promtool'
  | 'alertmanager'
  | 'temporal-server'
  | 'temporal-sql-tool'
  | 'postgres';

/** Debian's packages; everything else comes from devstack/build.sh. */
const debianBinaries: Partial<Record<BinaryName, string>> = {
  prometheus: '/usr/bin/prometheus',
  promtool: '/usr/bin/promtool',
  alertmanager: '/usr/bin/prometheus-alertmanager',
  postgres: '/usr/lib/postgresql/15/bin/postgres',
};

/** The path of a server binary, or an error that says how to get it. */
export function binary(name: BinaryName): string {
  const debian = debianBinaries[name];
  if (debian !== undefined) {
    if (!existsSync(debian)) {
      throw new Error(
        `${debian} is missing: run devstack/install.sh (it installs Debian's prometheus and postgresql packages)`,
      );
    }
    return debian;
  }
  const built = join(buildCache, 'bin', 'current.env');
  const variable = `${name.replace(/-/g, '_').toUpperCase()}_BIN=`;
  const line = existsSync(built)
    ? readFileSync(built, 'utf8')
        .split('\n')
        .find((l) => l.startsWith(variable))
    : undefined;
  const path = line?.slice(variable.length);
  if (path === undefined || !existsSync(path)) {
    throw new Error(`${name} has not been built: run devstack/build.sh (cache: ${buildCache})`);
  }
  return path;
}

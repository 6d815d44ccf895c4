/**
 * KubeMedic's own worker and policy watcher as processes beside the stack's servers, the way the
 * chart runs them: configured by the environment, /healthz and /metrics on the ports Prometheus
 * scrapes (devstack/server-configs.ts), each as its chart ServiceAccount with the chart's RBAC
 * (devstack/chart.ts). The demo starts them; `devstack down` stops them too.
 */
import { join } from 'node:path';
import { chartIdentities } from './chart.ts';
import { ports, repoRoot } from './config.ts';
import { logFile, startProcess, stopProcess, waitFor } from './processes.ts';
import { environment } from './environment.ts';
import { ensureAlertReceiverToken } from './server-configs.ts';

/**
 * The demo's policies carry this label and its watcher evaluates only them: the stack is shared
 * with the tests, whose policies must never be acted on by the demo's worker.
 */
export const demoPolicyLabel = 'kubemedic.io/demo';

export const kubemedicProcesses = [
  { name: 'kubemedic-worker', main: 'worker/main.ts', metricsPort: ports.kubemedicWorker, as: 'worker' },
  {
    name: 'kubemedic-watcher',
    main: 'policy-watcher/main.ts',
    metricsPort: ports.kubemedicWatcher,
    as: 'watcher',
  },
] as const;

export async function startKubeMedicProcesses(cluster: string, log: (line: string) => void): Promise<void> {
  await stopKubeMedicProcesses(() => undefined); // a previous demo's, perhaps for another cluster
  const identities = await chartIdentities();
  const kubeconfigFiles = {
    worker: identities.workerKubeconfigFile,
    watcher: identities.watcherKubeconfigFile,
  };
  for (const { name, main, metricsPort, as } of kubemedicProcesses) {
    startProcess(name, process.execPath, ['--import', 'tsx', join(repoRoot, main)], repoRoot, {
      ...process.env,
      ...environment(),
      KUBECONFIG: kubeconfigFiles[as],
      KUBEMEDIC_CLUSTER: cluster,
      KUBEMEDIC_NAMESPACE: identities.namespace,
      KUBEMEDIC_METRICS_PORT: String(metricsPort),
      KUBEMEDIC_ALERT_WEBHOOK_PORT: String(ports.watcherWebhook),
      // The token the stack's Alertmanager sends (server-configs.ts); the receiver listens on loopback.
      KUBEMEDIC_ALERT_RECEIVER_TOKEN_FILE: ensureAlertReceiverToken(),
      KUBEMEDIC_POLICY_SELECTOR: `${demoPolicyLabel}=true`,
      // The demo's notification receiver listens on this machine; production refuses loopback.
      KUBEMEDIC_OUTBOUND_ALLOW_LOOPBACK: 'true',
    });
    log(`${name}: started for cluster "${cluster}" (log ${logFile(name)})`);
  }
  await Promise.all(
    kubemedicProcesses.map(({ name, metricsPort }) =>
      waitFor(name, async () => (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).ok, 60_000),
    ),
  );
}

export async function stopKubeMedicProcesses(log: (line: string) => void): Promise<void> {
  for (const { name } of kubemedicProcesses) if (await stopProcess(name)) log(`${name}: stopped`);
}

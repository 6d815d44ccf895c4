/**
 * The policy watcher process. Configuration from the environment (the chart sets it):
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, KUBEMEDIC_CLUSTER, KUBECONFIG (in-cluster when unset),
 * PROMETHEUS_URL, KUBEMEDIC_POLICY_SELECTOR (evaluate only policies with these labels).
 * Any number of replicas may run at once.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { clusterName } from './config.ts';
import { PolicyWatcher } from './watcher.ts';

const kubeconfig = new KubeConfig();
kubeconfig.loadFromDefault();
const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
const watcher = new PolicyWatcher({
  kubeconfig,
  client,
  cluster: clusterName(),
  prometheusUrl: process.env.PROMETHEUS_URL,
});
await watcher.start();

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void watcher
      .stop()
      .then(() => connection.close())
      .then(() => process.exit(0));
  });
}

/**
 * The policy watcher process. Configuration from the environment (the chart sets it):
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE (TLS or an API key: temporal-connection.ts), KUBEMEDIC_CLUSTER,
 * KUBECONFIG (in-cluster when unset), PROMETHEUS_URL, KUBEMEDIC_POLICY_SELECTOR (evaluate only
 * policies with these labels), KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT=true (a namespaced policy that
 * names no ServiceAccount is Invalid); /metrics and /healthz on KUBEMEDIC_METRICS_PORT (9465);
 * Alertmanager's webhook (POST /alertmanager) on KUBEMEDIC_ALERT_WEBHOOK_PORT (8091).
 * Any number of replicas may run at once.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { serveMetrics } from '../domain/metrics-server.ts';
import { clusterName } from '../domain/config/names.ts';
import { trackActiveRemediations, watcherRegistry } from './metrics.ts';
import { temporalConnectionOptions, temporalNamespace } from '../domain/config/temporal-connection.ts';
import { PolicyWatcher } from './watcher.ts';

const kubeconfig = new KubeConfig();
kubeconfig.loadFromDefault();
const connection = await Connection.connect(temporalConnectionOptions());
const client = new Client({ connection, namespace: temporalNamespace() });
const watcher = new PolicyWatcher({
  kubeconfig,
  client,
  cluster: clusterName(),
  prometheusUrl: process.env.PROMETHEUS_URL,
  policySelector: process.env.KUBEMEDIC_POLICY_SELECTOR,
  requireServiceAccount: process.env.KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT === 'true',
  alertWebhookPort: Number(process.env.KUBEMEDIC_ALERT_WEBHOOK_PORT ?? 8091),
});
await watcher.start();
trackActiveRemediations(client, clusterName());
const metrics = serveMetrics(Number(process.env.KUBEMEDIC_METRICS_PORT ?? 9465), {
  registry: watcherRegistry,
  healthy: () => watcher.healthy,
  why: 'an informer has stopped and not listed again yet',
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void watcher
      .stop()
      .then(() => connection.close())
      .then(() => metrics.close())
      .then(() => process.exit(0));
  });
}

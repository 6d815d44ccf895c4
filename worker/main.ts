/**
 * The worker process. Configuration comes from the environment (the chart sets it):
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE (TLS or an API key: policy-watcher/temporal-connection.ts), KUBEMEDIC_CLUSTER (its task queue is kubemedic-<cluster>),
 * KUBECONFIG (in-cluster when unset), PROMETHEUS_URL, ALERTMANAGER_URL (verifying Alertmanager
 * conditions), and the cluster-wide limits
 * KUBEMEDIC_MAX_CONCURRENT, KUBEMEDIC_MAX_PER_HOUR and KUBEMEDIC_MAX_CONCURRENT_PER_NAMESPACE, KUBEMEDIC_PROTECTED_NAMESPACES (comma-separated);
 * KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT=true (namespaced policies must name a ServiceAccount);
 * KUBEMEDIC_NAMESPACE (the worker's own namespace, where cluster policies' notification Secrets
 * live; default kubemedic) and KUBEMEDIC_WEB_UI_URL (links to runs in notifications);
 * /metrics and /healthz on KUBEMEDIC_METRICS_PORT (9464); KUBEMEDIC_SHUTDOWN_GRACE (a duration,
 * default 30 seconds: how long in-flight activities may finish on SIGTERM; the chart's
 * terminationGracePeriodSeconds is longer).
 * SIGTERM and SIGINT shut it down gracefully.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { NativeConnection } from '@temporalio/worker';
import { installRuntimeWithMetrics, serveWorkerMetrics } from './observability.ts';
import { temporalConnectionOptions, temporalNamespace } from '../domain/config/temporal-connection.ts';
import { taskQueueFor } from '../domain/config/names.ts';
import { createWorker } from './worker.ts';

// Before any connection: the runtime's telemetry is fixed when it is created.
const sdkMetricsUrl = installRuntimeWithMetrics();
const kubeconfig = new KubeConfig();
kubeconfig.loadFromDefault();
const connection = await NativeConnection.connect(temporalConnectionOptions());
const worker = await createWorker({
  connection,
  namespace: temporalNamespace(),
  taskQueue: taskQueueFor(process.env.KUBEMEDIC_CLUSTER),
  kubeconfig,
  prometheusUrl: process.env.PROMETHEUS_URL,
  alertmanagerUrl: process.env.ALERTMANAGER_URL || undefined,
  globalLimits: {
    maxConcurrent: optionalNumber('KUBEMEDIC_MAX_CONCURRENT'),
    maxPerHour: optionalNumber('KUBEMEDIC_MAX_PER_HOUR'),
  },
  maxConcurrentPerNamespace: optionalNumber('KUBEMEDIC_MAX_CONCURRENT_PER_NAMESPACE'),
  protectedNamespaces: (process.env.KUBEMEDIC_PROTECTED_NAMESPACES ?? '').split(',').filter((n) => n !== ''),
  requireServiceAccount: process.env.KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT === 'true',
  ownNamespace: process.env.KUBEMEDIC_NAMESPACE || undefined,
  webUiUrl: process.env.KUBEMEDIC_WEB_UI_URL || undefined,
  shutdownGraceTime: process.env.KUBEMEDIC_SHUTDOWN_GRACE || undefined,
});
// The SDK installs SIGTERM/SIGINT handlers that call worker.shutdown(); run() resolves when drained.
const metrics = serveWorkerMetrics(worker, sdkMetricsUrl);
await worker.run();
metrics.close();
await connection.close();

function optionalNumber(variable: string): number | undefined {
  const value = process.env[variable];
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new Error(`${variable}=${value} is not a positive integer`);
  return number;
}

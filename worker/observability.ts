/**
 * The worker process's metrics endpoint: KubeMedic's counters (activities/metrics.ts), Node's
 * process metrics, whether the worker is polling, and the Temporal SDK runtime's own metrics.
 * The runtime's exporter listens on 127.0.0.1 only (KUBEMEDIC_SDK_METRICS_PORT); /metrics
 * (KUBEMEDIC_METRICS_PORT) appends what it serves, so one scrape gets everything. Every series
 * carries `cluster` (KUBEMEDIC_CLUSTER), so a Prometheus scraping several clusters' workers tells
 * them apart and the dashboard's Cluster variable lists them.
 */
import { Runtime, type Worker } from '@temporalio/worker';
import type { Server } from 'node:http';
import { collectDefaultMetrics, Gauge } from 'prom-client';
import { metricsRegistry } from '../activities/index.ts';
import type { WorkerConfig } from '../domain/config/worker.ts';
import type { Logger } from '../domain/logging/logger.ts';
import { StructuredTemporalLogger } from '../domain/logging/temporal-logger.ts';
import { scrapeLocal, serveMetrics } from '../domain/metrics-server.ts';

/**
 * Installs the Temporal runtime with its Prometheus exporter and the process's structured logger
 * (the SDK's lines, activities' and workflows'; the Rust core's are forwarded to it instead of
 * going to stderr as plain text); returns the exporter's URL.
 */
export function installRuntimeWithMetrics(
  config: Pick<WorkerConfig, 'logLevel' | 'sdkMetricsPort' | 'cluster'>,
  logger: Logger,
): string {
  const bindAddress = `127.0.0.1:${config.sdkMetricsPort}`;
  Runtime.install({
    logger: new StructuredTemporalLogger(logger),
    telemetryOptions: {
      logging: { filter: { core: config.logLevel, other: config.logLevel }, forward: {} },
      metrics: { prometheus: { bindAddress }, globalTags: { cluster: config.cluster } },
    },
  });
  return `http://${bindAddress}/metrics`;
}

export function serveWorkerMetrics(
  worker: Worker,
  { metricsPort, cluster }: Pick<WorkerConfig, 'metricsPort' | 'cluster'>,
  sdkMetricsUrl: string,
): Server {
  const running = () => worker.getState() === 'RUNNING';
  metricsRegistry.setDefaultLabels({ cluster });
  collectDefaultMetrics({ register: metricsRegistry });
  new Gauge({
    name: 'kubemedic_worker_running',
    help: '1 while the worker polls its task queue, 0 while it starts or drains.',
    registers: [metricsRegistry],
    collect() {
      this.set(running() ? 1 : 0);
    },
  });
  return serveMetrics(metricsPort, {
    registry: metricsRegistry,
    more: () => scrapeLocal(sdkMetricsUrl),
    healthy: running,
    why: 'worker not running',
  });
}

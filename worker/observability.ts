/**
 * The worker process's metrics endpoint: KubeMedic's counters (activities/metrics.ts), Node's
 * process metrics, whether the worker is polling, and the Temporal SDK runtime's own metrics.
 * The runtime's exporter listens on 127.0.0.1 only (KUBEMEDIC_SDK_METRICS_PORT); /metrics
 * (KUBEMEDIC_METRICS_PORT) appends what it serves, so one scrape gets everything.
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
  config: Pick<WorkerConfig, 'logLevel' | 'sdkMetricsPort'>,
  logger: Logger,
): string {
  const bindAddress = `127.0.0.1:${config.sdkMetricsPort}`;
  Runtime.install({
    logger: new StructuredTemporalLogger(logger),
    telemetryOptions: {
      logging: { filter: { core: config.logLevel, other: config.logLevel }, forward: {} },
      metrics: { prometheus: { bindAddress } },
    },
  });
  return `http://${bindAddress}/metrics`;
}

export function serveWorkerMetrics(worker: Worker, port: number, sdkMetricsUrl: string): Server {
  const running = () => worker.getState() === 'RUNNING';
  collectDefaultMetrics({ register: metricsRegistry });
  new Gauge({
    name: 'kubemedic_worker_running',
    help: '1 while the worker polls its task queue, 0 while it starts or drains.',
    registers: [metricsRegistry],
    collect() {
      this.set(running() ? 1 : 0);
    },
  });
  return serveMetrics(port, {
    registry: metricsRegistry,
    more: () => scrapeLocal(sdkMetricsUrl),
    healthy: running,
    why: 'worker not running',
  });
}

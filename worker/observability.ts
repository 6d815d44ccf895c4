/**
 * The worker process's metrics endpoint: KubeMedic's counters (activities/metrics.ts), Node's
 * process metrics, whether the worker is polling, and the Temporal SDK runtime's own metrics.
 * The runtime's exporter listens on 127.0.0.1:KUBEMEDIC_SDK_METRICS_PORT (9466) only; /metrics on
 * KUBEMEDIC_METRICS_PORT (9464) appends what it serves, so one scrape gets everything.
 */
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import type { Server } from 'node:http';
import { collectDefaultMetrics, Gauge } from 'prom-client';
import { metricsRegistry } from '../activities/index.ts';
import { logLevel } from '../domain/config/names.ts';
import { scrapeLocal, serveMetrics } from '../domain/metrics-server.ts';

/**
 * Installs the Temporal runtime with its Prometheus exporter, logging from KUBEMEDIC_LOG_LEVEL
 * up; returns the exporter's URL.
 */
export function installRuntimeWithMetrics(): string {
  const bindAddress = `127.0.0.1:${Number(process.env.KUBEMEDIC_SDK_METRICS_PORT ?? 9466)}`;
  Runtime.install({
    logger: new DefaultLogger(logLevel()),
    telemetryOptions: { metrics: { prometheus: { bindAddress } } },
  });
  return `http://${bindAddress}/metrics`;
}

export function serveWorkerMetrics(worker: Worker, sdkMetricsUrl: string): Server {
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
  return serveMetrics(Number(process.env.KUBEMEDIC_METRICS_PORT ?? 9464), {
    registry: metricsRegistry,
    more: () => scrapeLocal(sdkMetricsUrl),
    healthy: running,
    why: 'worker not running',
  });
}

/**
 * The worker process. Its configuration is read once from the environment the chart sets
 * (domain/config/worker.ts; every variable is in docs/configuration.md) and passed down; a bad
 * value stops it at start, naming the variable. SIGTERM and SIGINT shut it down gracefully.
 * It logs JSON lines on stdout (domain/logging); a failure at start is logged, then exit code 1.
 * With tracing on (domain/config tracingVariables), runs are traced (domain/tracing.ts) and each
 * line written inside a span carries its trace_id and span_id.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { NativeConnection } from '@temporalio/worker';
import { configurationOf } from '../domain/config/environment.ts';
import { connectionOptions } from '../domain/config/temporal-connection.ts';
import { workerConfig } from '../domain/config/worker.ts';
import { createLogger } from '../domain/logging/logger.ts';
import { traceFields } from '../domain/logging/trace-fields.ts';
import { installRuntimeWithMetrics, serveWorkerMetrics } from './observability.ts';
import { createWorker } from './worker.ts';

const config = configurationOf('kubemedic worker', workerConfig);
const logger = createLogger({
  process: 'worker',
  level: config.logLevel,
  ...(config.tracing ? { mixin: traceFields } : {}),
});
// The tracing SDK is loaded only when tracing is on.
const tracing = config.tracing
  ? (await import('../domain/tracing.ts')).startTracing('kubemedic-worker')
  : undefined;
try {
  // Before any connection: the runtime's telemetry is fixed when it is created.
  const sdkMetricsUrl = installRuntimeWithMetrics(config, logger);
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromDefault();
  const connection = await NativeConnection.connect(connectionOptions(config.temporal));
  const worker = await createWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.taskQueue,
    shutdownGraceTime: config.shutdownGraceMs,
    tracing,
    kubeconfig,
    ...config.activities,
  });
  // The SDK installs SIGTERM/SIGINT handlers that call worker.shutdown(); run() resolves when drained.
  const metrics = serveWorkerMetrics(worker, config, sdkMetricsUrl);
  logger.info(
    {
      taskQueue: config.taskQueue,
      namespace: config.temporal.namespace,
      address: config.temporal.address,
      tracing: config.tracing,
    },
    'worker starting',
  );
  await worker.run();
  metrics.close();
  await connection.close();
  // The spans still batched, before the process ends.
  await tracing?.shutdown();
  logger.info('worker stopped');
} catch (error) {
  logger.fatal({ error }, 'worker failed');
  process.exit(1);
}

/**
 * The worker process. Its configuration is read once from the environment the chart sets
 * (domain/config/worker.ts; every variable is in docs/configuration.md) and passed down; a bad
 * value stops it at start, naming the variable. SIGTERM and SIGINT shut it down gracefully.
 * It logs JSON lines on stdout (domain/logging); a failure at start is logged, then exit code 1.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { NativeConnection } from '@temporalio/worker';
import { configurationOf } from '../domain/config/environment.ts';
import { connectionOptions } from '../domain/config/temporal-connection.ts';
import { workerConfig } from '../domain/config/worker.ts';
import { createLogger } from '../domain/logging/logger.ts';
import { installRuntimeWithMetrics, serveWorkerMetrics } from './observability.ts';
import { createWorker } from './worker.ts';

const config = configurationOf('kubemedic worker', workerConfig);
const logger = createLogger({ process: 'worker', level: config.logLevel });
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
    kubeconfig,
    ...config.activities,
  });
  // The SDK installs SIGTERM/SIGINT handlers that call worker.shutdown(); run() resolves when drained.
  const metrics = serveWorkerMetrics(worker, config.metricsPort, sdkMetricsUrl);
  logger.info(
    { taskQueue: config.taskQueue, namespace: config.temporal.namespace, address: config.temporal.address },
    'worker starting',
  );
  await worker.run();
  metrics.close();
  await connection.close();
  logger.info('worker stopped');
} catch (error) {
  logger.fatal({ error }, 'worker failed');
  process.exit(1);
}

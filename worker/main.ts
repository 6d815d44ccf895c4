/**
 * The worker process. Configuration comes from the environment (the chart sets it):
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, KUBEMEDIC_TASK_QUEUE (one per cluster), KUBECONFIG
 * (in-cluster when unset), PROMETHEUS_URL. SIGTERM and SIGINT shut it down gracefully.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { NativeConnection } from '@temporalio/worker';
import { taskQueueFor } from '../policy-watcher/index.ts';
import { createWorker } from './worker.ts';

const kubeconfig = new KubeConfig();
kubeconfig.loadFromDefault();
const connection = await NativeConnection.connect({
  address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
});
const worker = await createWorker({
  connection,
  namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  taskQueue: taskQueueFor(process.env.KUBEMEDIC_CLUSTER),
  kubeconfig,
  prometheusUrl: process.env.PROMETHEUS_URL,
});
// The SDK installs SIGTERM/SIGINT handlers that call worker.shutdown(); run() resolves when drained.
await worker.run();
await connection.close();

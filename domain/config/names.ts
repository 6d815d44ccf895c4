/** Names shared by the watcher, the worker and the CLI. */

/** One task queue per cluster, so many clusters can share one Temporal namespace. */
export const taskQueueFor = (cluster: string | undefined) => `kubemedic-${cluster ?? 'local'}`;

export const clusterName = () => process.env.KUBEMEDIC_CLUSTER ?? 'local';

const logLevels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/** KUBEMEDIC_LOG_LEVEL (the chart's logLevel): the least severe level logged; INFO when unset. */
export function logLevel(env: NodeJS.ProcessEnv = process.env): (typeof logLevels)[number] {
  const level = (env.KUBEMEDIC_LOG_LEVEL || 'INFO').toUpperCase();
  const known = logLevels.find((l) => l === level);
  if (known === undefined) {
    throw new Error(`KUBEMEDIC_LOG_LEVEL=${level} is not one of ${logLevels.join(', ')}`);
  }
  return known;
}

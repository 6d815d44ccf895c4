/** Names shared by the watcher, the worker and the CLI. */

/** One task queue per cluster, so many clusters can share one Temporal namespace. */
export const taskQueueFor = (cluster: string) => `kubemedic-${cluster}`;

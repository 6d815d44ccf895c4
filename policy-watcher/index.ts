// The face of policy-watcher/ for the CLI, the worker and tests.
export { PolicyWatcher, type WatcherOptions } from './watcher.ts';
export { checkPolicy, type CheckedPolicy } from './policies.ts';
export { clusterName, taskQueueFor } from './config.ts';
export { startRemediation } from './starter.ts';
export { temporalConnectionOptions, temporalNamespace } from './temporal-connection.ts';

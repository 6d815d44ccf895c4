// The face of policy-watcher/ for the CLI, the worker and tests.
export { PolicyWatcher, type WatcherOptions } from './watcher.ts';
export { checkPolicy, type CheckedPolicy } from './policies.ts';
export { startRemediation } from './starter.ts';
export { watcherRegistry } from './metrics.ts';

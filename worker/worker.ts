/**
 * Builds the KubeMedic worker: the remediation workflow and its activities on one task queue
 * per cluster. Used by worker/main.ts and by tests that need a real worker.
 */
import type { Duration } from '@temporalio/common';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ActivityDependencies, createRemediationActivities } from '../activities/index.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** The workflows prebuilt by `npm run build:processes` (worker/build.ts), beside the built worker. */
export const workflowBundleName = 'workflow-bundle.js';
const prebuiltBundle = fileURLToPath(new URL(`./${workflowBundleName}`, import.meta.url));

/**
 * The built worker (dist/worker/) loads the bundle made at build time: no webpack at start, less
 * memory. From the sources (tsx, tests) there is none, and the SDK bundles workflows/ itself.
 */
const workflowCode = () =>
  existsSync(prebuiltBundle) ? { workflowBundle: { codePath: prebuiltBundle } } : { workflowsPath };

/** The worker's connection and task queue, and everything its activities depend on. */
export interface WorkerOptions extends ActivityDependencies {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** How long in-flight activities may finish on shutdown before they are cancelled . */
  shutdownGraceTime?: Duration;
}

export function createWorker({
  connection,
  namespace,
  taskQueue,
  shutdownGraceTime,
  ...dependencies
}: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    ...workflowCode(),
    activities: createRemediationActivities(dependencies),
    // The SDK default is 0: in-flight activities would be cancelled at once on SIGTERM.
    shutdownGraceTime: shutdownGraceTime ?? '30 seconds',
    // Bounded, so memory stays flat however many remediations run (sdk-typescript#2227).
    maxCachedWorkflows: 200,
  });
}

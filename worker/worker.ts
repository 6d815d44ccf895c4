/**
 * Builds the KubeMedic worker: the remediation workflow and its activities on one task queue
 * per cluster. Used by worker/main.ts and by tests that need a real worker.
 */
import type { Duration } from '@temporalio/common';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { type ActivityDependencies, createRemediationActivities } from '../activities/index.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

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
    workflowsPath,
    activities: createRemediationActivities(dependencies),
    // The SDK default is 0: in-flight activities would be cancelled at once on SIGTERM.
    shutdownGraceTime: shutdownGraceTime ?? '30 seconds',
    // Bounded, so memory stays flat however many remediations run (sdk-typescript#2227).
    maxCachedWorkflows: 200,
  });
}

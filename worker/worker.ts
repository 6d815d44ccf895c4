/**
 * Builds the KubeMedic worker: the remediation workflow and its activities on one task queue
 * per cluster. Used by worker/main.ts and by tests that need a real worker.
 */
import type { Duration } from '@temporalio/common';
import { type NativeConnection, Worker, type WorkerOptions as SdkWorkerOptions } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ActivityDependencies, createRemediationActivities } from '../activities/index.ts';
import type { Tracing } from '../domain/tracing.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * The workflows prebuilt by `npm run build:processes` (worker/build.ts), beside the built worker:
 * as they are, and with the tracing workflow interceptors (worker/tracing.ts) bundled in.
 */
export const workflowBundleNames = { plain: 'workflow-bundle.js', tracing: 'workflow-bundle-tracing.js' };
const prebuiltBundle = (tracing: boolean) =>
  fileURLToPath(new URL(`./${workflowBundleNames[tracing ? 'tracing' : 'plain']}`, import.meta.url));

/**
 * The built worker (dist/worker/) loads the bundle made at build time: no webpack at start, less
 * memory. From the sources (tsx, tests) there is none, and the SDK bundles workflows/ itself.
 */
const workflowCode = (tracing: boolean) =>
  existsSync(prebuiltBundle(tracing))
    ? { workflowBundle: { codePath: prebuiltBundle(tracing) } }
    : { workflowsPath };

/** The worker's connection and task queue, and everything its activities depend on. */
export interface WorkerOptions extends ActivityDependencies {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** How long in-flight activities may finish on shutdown before they are cancelled . */
  shutdownGraceTime?: Duration;
  /** Set when tracing is on (domain/tracing.ts); unset, the worker has no interceptors of ours. */
  tracing?: Tracing;
}

/** The SDK's options for the worker: with tracing, through worker/tracing.ts, loaded only then. */
export async function workerOptions({
  connection,
  namespace,
  taskQueue,
  shutdownGraceTime,
  tracing,
  ...dependencies
}: WorkerOptions): Promise<SdkWorkerOptions> {
  const options: SdkWorkerOptions = {
    connection,
    namespace,
    taskQueue,
    ...workflowCode(tracing !== undefined),
    activities: createRemediationActivities(dependencies),
    // The SDK default is 0: in-flight activities would be cancelled at once on SIGTERM.
    shutdownGraceTime: shutdownGraceTime ?? '30 seconds',
    // Bounded, so memory stays flat however many remediations run (sdk-typescript#2227).
    maxCachedWorkflows: 200,
  };
  if (tracing === undefined) return options;
  const { withTracing } = await import('./tracing.ts');
  return withTracing(options, tracing);
}

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  return Worker.create(await workerOptions(options));
}

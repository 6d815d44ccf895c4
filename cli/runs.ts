/**
 * Finding one remediation run and reading its state. A run is named by its workflow ID (one
 * per target and policy, reused by later runs); `--run-id` picks an earlier execution.
 */
import {
  type WorkflowExecutionDescription,
  type WorkflowHandle,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { statusQuery } from '../domain/messages.ts';
import type { RemediationStatus, RemediationWorkflow } from '../domain/run.ts';
import { type Context } from './context.ts';
import { notFound, unreachable, usageError } from './errors.ts';
import { workerFix } from './next-steps.ts';
import { within } from './within.ts';

export interface Run {
  handle: WorkflowHandle<RemediationWorkflow>;
  description: WorkflowExecutionDescription;
  running: boolean;
}

export const runIdOption = { 'run-id': { type: 'string' } } as const;
/** The help line of --run-id, for every command that takes it. */
export const runIdHelp =
  '  --run-id ID  an earlier execution of the same workflow ID (`kubemedic list -o wide` shows RUN ID)';

/** How long a command waits for a worker to answer a query or an update. */
export const workerTimeoutMs = 30_000;

export async function findRun(
  context: Context,
  workflowId: string | undefined,
  runId?: string,
): Promise<Run> {
  if (!workflowId) throw usageError('name the run: its workflow ID, as `kubemedic list` shows it');
  const client = await context.temporal();
  const handle = client.workflow.getHandle<RemediationWorkflow>(workflowId, runId);
  try {
    const description = await handle.describe();
    return { handle, description, running: description.status.name === 'RUNNING' };
  } catch (error) {
    throw notFoundOr(error, runNotFound(workflowId, runId, context.flags.temporal.namespace));
  }
}

/**
 * No such run: where to look instead. A remediation ID names its cluster and its target's
 * namespace, so the listing that would show its runs can be given whole.
 */
export function runNotFound(
  workflowId: string,
  runId: string | undefined,
  temporalNamespace: string,
): string {
  const parts = workflowId.split('/');
  const [prefix, cluster, namespace] = parts;
  const target =
    prefix === 'remediation' && parts.length === 6
      ? `; this target's: \`kubemedic list --cluster ${cluster}${namespace === '_cluster' ? '' : ` -n ${namespace}`}\``
      : '; a run is named remediation/<cluster>/<namespace>/<kind>/<name>/<policy>';
  return (
    `no run ${workflowId}${runId ? ` (run ${runId})` : ''} in Temporal namespace ${temporalNamespace}: ` +
    `find runs with \`kubemedic list\`${target} (another Temporal namespace: --temporal-namespace)`
  );
}

export function notFoundOr(error: unknown, message: string): Error {
  return error instanceof WorkflowNotFoundError ? notFound(message) : (error as Error);
}

/** Waits at most `ms` for `work`; a worker that never answers becomes exit code 5 with the fix. */
export function fromWorker<T>(run: Run, what: string, work: Promise<T>, ms = workerTimeoutMs): Promise<T> {
  return within(ms, work, () =>
    unreachable(
      `no worker answered ${what} within ${ms / 1000}s on task queue ${run.description.taskQueue}: ` +
        `is the KubeMedic worker for this cluster running? ${workerFix(run.description.taskQueue)}`,
    ),
  );
}

/**
 * The run's status, as the workflow itself reports it: the result of a run that completed (read
 * from its history, no worker needed), else the `status` query, which a worker answers for a
 * running run and, by replaying its history, for one that failed or was terminated.
 */
export async function readStatus(run: Run): Promise<RemediationStatus> {
  if (run.description.status.name === 'COMPLETED') return run.handle.result();
  return fromWorker(run, 'the status query', run.handle.query(statusQuery));
}

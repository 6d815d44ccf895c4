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
    throw notFoundOr(
      error,
      `no run ${workflowId}${runId ? ` (run ${runId})` : ''} in Temporal namespace ` +
        `${context.flags.temporal.namespace}: find runs with \`kubemedic list\``,
    );
  }
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

/**
 * Finding one remediation run and reading its state. A run is named by its workflow ID (one
 * per target and policy, reused by later runs), or by its target object as kubectl names it
 * (`deploy/web -n shop [--policy p]`: the latest run for that target, found through the search
 * attributes); `--run-id` picks an earlier execution. Every command that takes a run calls
 * `findRun`, so they all accept both names.
 */
import type { WorkflowExecutionDescription, WorkflowExecutionInfo, WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { statusQuery } from '../domain/messages.ts';
import { remediationWorkflowType, type RemediationStatus, type RemediationWorkflow } from '../domain/run.ts';
import { searchAttributes } from '../domain/search-attributes.ts';
import { flag } from './command.ts';
import { type Context } from './context.ts';
import { notFound, unreachable, usageError } from './errors.ts';
import { workerFix } from './next-steps.ts';
import { clusterScoped, looksLikeObject, type ObjectName, parseObjectName } from './object-names.ts';
import { within } from './within.ts';

export interface Run {
  handle: WorkflowHandle<RemediationWorkflow>;
  description: WorkflowExecutionDescription;
  running: boolean;
}

/** The flags of every command that takes a run. */
export const runIdOption = {
  'run-id': { type: 'string' },
  policy: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
} as const;
/** The help lines of those flags, for every command that takes a run. */
export const runIdHelp = [
  '<run> is a workflow ID as `kubemedic list` prints it, or the target as kubectl names it',
  '(deploy/NAME, sts/NAME, po/NAME, no/NAME): its latest run.',
  '  --namespace, -n NS  the target\'s namespace (default: the kubeconfig context\'s, else "default")',
  '  --policy NAME       the policy, when several ran on the target (NAME, or NS/NAME)',
  '  --run-id ID         an earlier execution of the same workflow ID (`kubemedic list -o wide` shows RUN ID)',
].join('\n');

/** How long a command waits for a worker to answer a query or an update. */
export const workerTimeoutMs = 30_000;

/** The run `name` (a workflow ID or kind/name) names, with the command's --run-id, --policy and -n. */
export async function findRun(
  context: Context,
  name: string | undefined,
  values: Record<string, unknown>,
): Promise<Run> {
  if (!name) throw usageError('name the run: its workflow ID, as `kubemedic list` shows it, or deploy/NAME');
  let runId = flag(values, 'run-id');
  let workflowId = name;
  if (looksLikeObject(name)) {
    const latest = await latestRunOf(context, parseObjectName(name), values);
    workflowId = latest.workflowId;
    runId ??= latest.runId;
  }
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
 * The latest run for the object (of the --policy one, if given) in this cluster, from Temporal's
 * visibility. Runs of several policies are ambiguous: the error lists them and the flag to pick.
 */
async function latestRunOf(
  context: Context,
  object: ObjectName,
  values: Record<string, unknown>,
): Promise<WorkflowExecutionInfo> {
  const namespace = clusterScoped.has(object.kind) ? undefined : await targetNamespace(context, values);
  const policy = flag(values, 'policy');
  const query = objectRunsQuery(context.flags.cluster, object, namespace, policy);
  const client = await context.temporal();
  // Newest first: the first execution seen of each workflow ID is its latest.
  const latest = new Map<string, WorkflowExecutionInfo>();
  for await (const info of client.workflow.list({ query })) {
    if (!latest.has(info.workflowId)) latest.set(info.workflowId, info);
    if (latest.size > 20) break;
  }
  const target = `${object.kind} ${namespace ? `${namespace}/` : ''}${object.name}`;
  const [only, ...others] = latest.values();
  if (!only) {
    throw notFound(
      `no run for ${target}${policy ? ` and policy ${policy}` : ''} in cluster ${context.flags.cluster}: ` +
        `\`kubemedic list${namespace ? ` -n ${namespace}` : ''}\` lists its runs` +
        (namespace && flag(values, 'namespace') === undefined ? ' (another namespace: -n NS)' : ''),
    );
  }
  if (others.length > 0) {
    const candidates = [only, ...others]
      .map((info) => `${info.typedSearchAttributes.get(searchAttributes.policy) ?? '?'} (${info.workflowId})`)
      .join(', ');
    throw usageError(`runs of several policies target ${target}: ${candidates}; pick one with --policy NAME`);
  }
  return only;
}

/** -n, else the kubeconfig context's namespace, else "default": as kubectl decides. */
async function targetNamespace(context: Context, values: Record<string, unknown>): Promise<string> {
  const given = flag(values, 'namespace');
  if (given !== undefined) return given;
  const kubeconfig = await context.kubeconfig().catch(() => undefined);
  const current = kubeconfig?.getContextObject(kubeconfig.getCurrentContext());
  return current?.namespace || 'default';
}

/** A value quoted for a visibility query, so that it cannot change the query's shape. */
export const quoted = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The visibility query for an object's runs; values are quoted, so a name cannot change the
 * query's shape. A bare --policy NAME on a namespaced target is that namespace's policy or a
 * ClusterRemediationPolicy of that name (whose label is the bare name).
 */
export function objectRunsQuery(
  cluster: string,
  object: ObjectName,
  namespace: string | undefined,
  policy: string | undefined,
): string {
  const is = (attribute: { name: string }, value: string) => `${attribute.name} = ${quoted(value)}`;
  const clauses = [
    `WorkflowType = '${remediationWorkflowType}'`,
    is(searchAttributes.cluster, cluster),
    is(searchAttributes.targetKind, object.kind),
    is(searchAttributes.targetName, object.name),
  ];
  if (namespace !== undefined) clauses.push(is(searchAttributes.namespace, namespace));
  if (policy !== undefined) {
    const labels =
      policy.includes('/') || namespace === undefined ? [policy] : [`${namespace}/${policy}`, policy];
    clauses.push(`(${labels.map((label) => is(searchAttributes.policy, label)).join(' OR ')})`);
  }
  return clauses.join(' AND ');
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

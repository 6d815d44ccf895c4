/**
 * CordonNode: mark a Node unschedulable (`/spec/unschedulable: true`, what `kubectl cordon`
 * does) with server-side apply as field manager "kubemedic". Pods already on the node keep
 * running; DrainNode cordons with the same code and then evicts them.
 */
import type { Action } from '../../api/policy.ts';
import { KubeRequestError, kubeRequest, objectPath } from '../../domain/kube/request.ts';
import { type ActionContext, type ActionModule } from './action.ts';
import {
  ActionError,
  fieldManager,
  type Backup,
  type ExecuteResult,
  type TargetRef,
} from '../../domain/actions.ts';
import { makeBackup, readFields, restoreFields } from './fields.ts';
import { readTarget, resourceVersionOf, targetObjectRef } from './target.ts';

export const unschedulable = '/spec/unschedulable';

function requireNode(target: TargetRef, action: string): void {
  if (target.kind !== 'Node')
    throw new ActionError('NotApplicable', `${action} acts on Nodes, not on a ${target.kind}`);
}

/** The node's `/spec/unschedulable` (null when absent, which means schedulable). */
export async function backupUnschedulable(
  ctx: ActionContext,
  target: TargetRef,
  action: Action['type'],
): Promise<Backup> {
  requireNode(target, action);
  const node = await readTarget(ctx, targetObjectRef(target));
  return makeBackup({
    target,
    action,
    object: targetObjectRef(target),
    resourceVersion: resourceVersionOf(node),
    fields: readFields(node, [unschedulable]),
  });
}

/** Cordons the node (dry run honoured) and says what changed. */
export async function cordon(
  ctx: ActionContext,
  target: TargetRef,
  backup: Backup,
): Promise<ExecuteResult & { alreadyCordoned: boolean }> {
  requireNode(target, backup.action);
  await kubeRequest(ctx.kubeconfig, {
    method: 'PATCH',
    path: objectPath(targetObjectRef(target)),
    query: { fieldManager, force: 'true', dryRun: ctx.dryRun ? 'All' : undefined },
    body: { apiVersion: 'v1', kind: 'Node', metadata: { name: target.name }, spec: { unschedulable: true } },
    contentType: 'application/apply-patch+yaml',
  }).catch((error: unknown) => {
    if (error instanceof KubeRequestError && error.status === 404)
      throw new ActionError('TargetGone', `Node ${target.name} no longer exists`);
    throw error;
  });
  const before = backup.fields[unschedulable] ?? null;
  const alreadyCordoned = before === true;
  const verb = ctx.dryRun ? 'dry run: would cordon' : 'cordoned';
  return {
    written: { [unschedulable]: true },
    changes: [{ path: unschedulable, before, after: true }],
    summary: alreadyCordoned ? `node ${target.name} was already cordoned` : `${verb} node ${target.name}`,
    alreadyCordoned,
  };
}

export const cordonNode: ActionModule = {
  type: 'CordonNode',
  backup: (ctx, target) => backupUnschedulable(ctx, target, 'CordonNode'),
  async execute(ctx, target, _action, backup): Promise<ExecuteResult> {
    const { written, changes, summary } = await cordon(ctx, target, backup);
    return { written, changes, summary };
  },
  async rollback(ctx, backup, executed) {
    const result = await restoreFields(ctx, backup, executed.written);
    if (result.outcome === 'RolledBack')
      return { ...result, reason: `uncordoned node ${backup.target.name}` };
    return result;
  },
};

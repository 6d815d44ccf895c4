/**
 * CordonNode: mark a Node unschedulable (`/spec/unschedulable: true`, what `kubectl cordon`
 * does) with server-side apply as field manager "kubemedic". Pods already on the node keep
 * running; DrainNode cordons with the same code and then evicts them.
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Action } from '../../api/policy.ts';
import { asRefusal } from '../../domain/kube/errors.ts';
import { type ActionContext, type ActionModule } from './action.ts';
import { fieldManager, type Backup, type ExecuteResult, type TargetRef } from '../../domain/actions.ts';
import { makeBackup, readFields, restoreFields } from './fields.ts';
import { readTarget, resourceVersionOf } from './target.ts';
import { targetObjectRef } from '../../domain/kube/objects.ts';
import { guardWrite } from './write-guard.ts';

export const unschedulable = '/spec/unschedulable';

/** The node's `/spec/unschedulable` (null when absent, which means schedulable). */
export async function backupUnschedulable(
  ctx: ActionContext,
  target: TargetRef,
  action: Action['type'],
): Promise<Backup> {
  const node = await readTarget(ctx, targetObjectRef(target));
  return makeBackup({
    target,
    action,
    object: targetObjectRef(target),
    resourceVersion: resourceVersionOf(node),
    fields: readFields(node, [unschedulable]),
  });
}

/** Cordons the node (dry run honoured) with server-side apply, and says what changed. */
export async function cordon(
  ctx: ActionContext,
  target: TargetRef,
  backup: Backup,
): Promise<ExecuteResult & { alreadyCordoned: boolean }> {
  const { name } = target;
  await guardWrite(ctx, targetObjectRef(target));
  await ctx.kubeconfig
    .makeApiClient(CoreV1Api)
    .patchNode(
      {
        name,
        body: { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { unschedulable: true } },
        fieldManager,
        force: true,
        dryRun: ctx.dryRun ? 'All' : undefined,
      },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    )
    .catch((error: unknown) => {
      throw asRefusal(error, `Node ${name}`);
    });
  const before = backup.fields[unschedulable] ?? null;
  const alreadyCordoned = before === true;
  const verb = ctx.dryRun ? 'dry run: would cordon' : 'cordoned';
  return {
    written: { [unschedulable]: true },
    changes: [{ path: unschedulable, before, after: true }],
    summary: alreadyCordoned ? `node ${name} was already cordoned` : `${verb} node ${name}`,
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

/**
 * What the workload actions share: the target as an ObjectRef, reading it (404 → TargetGone),
 * the two ways they write — server-side apply of a minimal apps/v1 object, and a JSON Patch at
 * the backed-up pointers — API failures turned into ActionErrors, and the ExecuteResult.
 *
 * Why two ways: server-side apply claims fields but cannot replace a whole object (a pod
 * template, a resources block) because fields owned by other managers survive it; a JSON Patch
 * `add`/`replace` puts exactly the value at the pointer, and its `test` operations guard atomically.
 */
import { AppsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ActionType } from '../../api/policy.ts';
import { asRefusal } from '../../domain/kube/errors.ts';
import { kubeRequest, objectPath } from '../../domain/kube/request.ts';
import { type ActionContext, type ActionModule } from './action.ts';
import {
  ActionError,
  fieldManager,
  type Backup,
  type ExecuteResult,
  type ObjectRef,
  type TargetRef,
} from '../../domain/actions.ts';
import { makeBackup, readFields, readPointer, restoreFields } from './fields.ts';
import { type KubeObject, readTarget } from './target.ts';
import { targetDisplay } from '../../domain/run.ts';
import { targetObjectRef } from '../../domain/kube/objects.ts';
import { guardWrite } from './write-guard.ts';

/** The target as an object reference (its kind was checked against the catalogue on entry). */
export function targetObject(target: TargetRef): ObjectRef {
  if (!target.namespace) throw new ActionError('Invalid', `${targetDisplay(target)} has no namespace`);
  return targetObjectRef(target);
}

/** A backup of `pointers` of an object already read. */
export function snapshot(
  target: TargetRef,
  type: ActionType,
  ref: ObjectRef,
  object: KubeObject,
  pointers: string[],
): Backup {
  return makeBackup({
    target,
    action: type,
    object: ref,
    resourceVersion: String(readPointer(object, '/metadata/resourceVersion') ?? ''),
    fields: readFields(object, pointers),
  });
}

/** Reads the target and backs up the pointers `pointersOf` names in it. */
export async function backupWorkload(
  ctx: ActionContext,
  target: TargetRef,
  type: ActionType,
  pointersOf: (object: KubeObject, ref: ObjectRef) => string[] | Promise<string[]>,
): Promise<Backup> {
  const ref = targetObject(target);
  const object = await readTarget(ctx, ref);
  return snapshot(target, type, ref, object, await pointersOf(object, ref));
}

/**
 * Server-side apply of {apiVersion, kind, metadata, spec} with field manager kubemedic and force,
 * so only the fields in `spec` are claimed. Every apply by this manager on a Deployment or
 * StatefulSet must carry the same field set, or the fields it leaves out are removed.
 */
export async function applySpec(ctx: ActionContext, ref: ObjectRef, spec: KubeObject): Promise<KubeObject> {
  await guardWrite(ctx, ref);
  const { name, namespace = '' } = ref;
  const request = {
    name,
    namespace,
    body: { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name, namespace }, spec },
    fieldManager,
    force: true,
    dryRun: ctx.dryRun ? 'All' : undefined,
  };
  const options = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
  const apps = ctx.kubeconfig.makeApiClient(AppsV1Api);
  try {
    const applied =
      ref.kind === 'StatefulSet'
        ? await apps.patchNamespacedStatefulSet(request, options)
        : await apps.patchNamespacedDeployment(request, options);
    return applied as unknown as KubeObject;
  } catch (error) {
    throw asRefusal(error, targetDisplay(ref));
  }
}

/** A JSON Patch of the object (field manager kubemedic); returns the object as patched. */
export async function patchJson(
  ctx: ActionContext,
  ref: ObjectRef,
  operations: unknown[],
): Promise<KubeObject> {
  await guardWrite(ctx, ref);
  try {
    return await kubeRequest<KubeObject>(ctx.kubeconfig, {
      method: 'PATCH',
      path: objectPath(ref),
      query: { fieldManager, dryRun: ctx.dryRun ? 'All' : undefined },
      body: operations,
      contentType: PatchStrategy.JsonPatch,
    });
  } catch (error) {
    throw asRefusal(error, targetDisplay(ref));
  }
}

/** The label selector of a workload's pods, from spec.selector.matchLabels. */
export function podSelector(object: KubeObject, ref: ObjectRef): string {
  const labels = (readPointer(object, '/spec/selector/matchLabels') ?? {}) as Record<string, string>;
  const selector = Object.entries(labels).map(([key, value]) => `${key}=${value}`);
  if (selector.length === 0)
    throw new ActionError('NotApplicable', `${targetDisplay(ref)} has no spec.selector.matchLabels`);
  return selector.join(',');
}

/**
 * The result of writing the backed-up fields: `written` is what the API server returned (after
 * its defaulting), `changes` run from the backed-up value to it, so a retry reports the same.
 */
export function executed(
  ctx: ActionContext,
  backup: Backup,
  after: KubeObject,
  summary: string,
): ExecuteResult {
  const pointers = Object.keys(backup.fields);
  const written = readFields(after, pointers);
  return {
    written,
    changes: pointers.map((path) => ({ path, before: backup.fields[path], after: written[path] })),
    summary: ctx.dryRun ? `dry run, nothing persisted: would have ${summary}` : summary,
  };
}

/** Rollback for actions that write fields: restore them where they still hold what was written. */
export const restoreWritten: ActionModule['rollback'] = (ctx, backup, result) =>
  restoreFields(ctx, backup, result.written);

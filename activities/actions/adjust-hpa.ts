/**
 * AdjustHPA: change the replica bounds of the HorizontalPodAutoscaler that scales the target
 * (a Deployment or StatefulSet), e.g. raise maxReplicas while a load spike lasts. Writes
 * `/spec/minReplicas` and/or `/spec/maxReplicas` of the autoscaling/v2 HPA with server-side
 * apply; the backup's `object` is that HPA, so rollback restores it, not the target.
 */
import {
  AutoscalingV2Api,
  PatchStrategy,
  setHeaderOptions,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { Action } from '../../api/policy.ts';
import { asRefusal, failedWith } from '../../domain/kube/errors.ts';
import { type ActionContext, type ActionModule, parametersOf } from './action.ts';
import {
  ActionError,
  fieldManager,
  type Backup,
  type FieldSnapshot,
  type ObjectRef,
  type TargetRef,
} from '../../domain/actions.ts';
import { makeBackup, readFields, restoreFields } from './fields.ts';
import { readTarget } from './target.ts';
import { targetDisplay } from '../../domain/run.ts';
import { targetObjectRef } from '../../domain/kube/objects.ts';
import { guardWrite } from './write-guard.ts';

const hpaRef = (namespace: string, name: string): ObjectRef => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  namespace,
  name,
});

/** The bounds the policy sets, and only those: the CRD requires at least one. */
function boundsOf(action: Action) {
  const { minReplicas: min, maxReplicas: max } = parametersOf(action, 'adjustHPA');
  return {
    ...(min !== undefined ? { minReplicas: min } : {}),
    ...(max !== undefined ? { maxReplicas: max } : {}),
  };
}

/** The pointers this action writes: only the bounds the policy sets. */
const pointersOf = (action: Action) => Object.keys(boundsOf(action)).map((field) => `/spec/${field}`);

/** An HPA's scaleTargetRef names an object of its own namespace: a same-named one elsewhere is not it. */
const scales = (hpa: V2HorizontalPodAutoscaler, target: TargetRef) => {
  const ref = hpa.spec?.scaleTargetRef;
  return (
    hpa.metadata?.namespace === target.namespace &&
    ref?.kind === target.kind &&
    ref.name === target.name &&
    (ref.apiVersion ?? 'apps/v1').startsWith('apps/')
  );
};

const hpas = (ctx: ActionContext) => ctx.kubeconfig.makeApiClient(AutoscalingV2Api);

/** The HPA by name; NotApplicable when there is none (`gone` says how to put it). */
async function readHpa(ctx: ActionContext, namespace: string, name: string, gone: string) {
  try {
    return await hpas(ctx).readNamespacedHorizontalPodAutoscaler({ namespace, name });
  } catch (error) {
    if (failedWith(error, 404)) throw new ActionError('NotApplicable', gone);
    throw asRefusal(error, `HorizontalPodAutoscaler ${namespace}/${name}`);
  }
}

async function findHpa(ctx: ActionContext, target: TargetRef, name: string | undefined) {
  const namespace = target.namespace ?? '';
  if (name) {
    const hpa = await readHpa(
      ctx,
      namespace,
      name,
      `no HorizontalPodAutoscaler named ${name} in namespace ${namespace}`,
    );
    if (!scales(hpa, target)) {
      const ref = hpa.spec?.scaleTargetRef;
      throw new ActionError(
        'NotApplicable',
        `HorizontalPodAutoscaler ${namespace}/${name} scales ${ref?.kind} ${ref?.name}, not ${targetDisplay(target)}`,
      );
    }
    return hpa;
  }
  const list = await hpas(ctx)
    .listNamespacedHorizontalPodAutoscaler({ namespace })
    .catch((error: unknown) => {
      throw asRefusal(error, `the HorizontalPodAutoscalers of namespace ${namespace}`);
    });
  const matching = list.items.filter((hpa) => scales(hpa, target));
  const [only] = matching;
  if (only === undefined)
    throw new ActionError(
      'NotApplicable',
      `no HorizontalPodAutoscaler in namespace ${namespace} scales ${targetDisplay(target)}; AdjustHPA needs one`,
    );
  if (matching.length > 1)
    throw new ActionError(
      'Invalid',
      `${matching.length} HorizontalPodAutoscalers scale ${targetDisplay(target)} ` +
        `(${matching.map((h) => h.metadata?.name).join(', ')}); name one in adjustHPA.name`,
    );
  return only;
}

const show = (value: unknown) => (value === null || value === undefined ? 'unset' : String(value));

export const adjustHPA: ActionModule = {
  type: 'AdjustHPA',

  async backup(ctx, target, action): Promise<Backup> {
    const pointers = pointersOf(action);
    await readTarget(ctx, targetObjectRef(target));
    const hpa = await findHpa(ctx, target, parametersOf(action, 'adjustHPA').name);
    const { name = '', namespace = '', resourceVersion = '' } = hpa.metadata ?? {};
    return makeBackup({
      target,
      action: 'AdjustHPA',
      object: hpaRef(namespace, name),
      resourceVersion,
      fields: readFields(hpa, pointers),
    });
  },

  async execute(ctx, target, action, backup) {
    const bounds = boundsOf(action);
    const ref = backup.object;
    const { name, namespace = '' } = ref;
    const current = await readHpa(
      ctx,
      namespace,
      name,
      `HorizontalPodAutoscaler ${namespace}/${name} was deleted`,
    );
    // minReplicas defaults to 1 when unset.
    const min = bounds.minReplicas ?? current.spec?.minReplicas ?? 1;
    const max = bounds.maxReplicas ?? current.spec?.maxReplicas ?? Infinity;
    if (min > max)
      throw new ActionError(
        'Invalid',
        `AdjustHPA would leave HorizontalPodAutoscaler ${namespace}/${name} with minReplicas ${min} ` +
          `above maxReplicas ${max}`,
      );
    // The backup names the HPA (it comes back through the workflow): held to the run's bounds,
    // and it must still scale the target, or the bounds would land on someone else's workload.
    await guardWrite(ctx, ref, {
      owned: (object) =>
        scales(object as unknown as V2HorizontalPodAutoscaler, target)
          ? undefined
          : `it does not scale ${targetDisplay(target)}`,
    });
    const written: FieldSnapshot = Object.fromEntries(
      Object.entries(bounds).map(([field, value]) => [`/spec/${field}`, value]),
    );
    await hpas(ctx)
      .patchNamespacedHorizontalPodAutoscaler(
        {
          name,
          namespace,
          body: { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name, namespace }, spec: bounds },
          fieldManager,
          force: true,
          dryRun: ctx.dryRun ? 'All' : undefined,
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      )
      .catch((error: unknown) => {
        throw asRefusal(error, `HorizontalPodAutoscaler ${namespace}/${name}`);
      });
    const changes = Object.entries(written).map(([path, after]) => ({
      path,
      before: backup.fields[path] ?? null,
      after,
    }));
    const described = changes
      .map((c) => `${c.path.slice('/spec/'.length)} ${show(c.before)}→${show(c.after)}`)
      .join(', ');
    return {
      written,
      changes,
      summary: `${ctx.dryRun ? 'dry run: would set' : 'set'} HorizontalPodAutoscaler ${ref.name} ${described} (scales ${targetDisplay(target)})`,
    };
  },

  rollback: (ctx, backup, executed) => restoreFields(ctx, backup, executed.written),
};

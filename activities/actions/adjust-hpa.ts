/**
 * AdjustHPA: change the replica bounds of the HorizontalPodAutoscaler that scales the target
 * (a Deployment or StatefulSet), e.g. raise maxReplicas while a load spike lasts. Writes
 * `/spec/minReplicas` and/or `/spec/maxReplicas` of the autoscaling/v2 HPA with server-side
 * apply; the backup's `object` is that HPA, so rollback restores it, not the target.
 */
import type { Action } from '../../api/policy.ts';
import { KubeRequestError, kubeRequest, objectPath } from '../../domain/kube/request.ts';
import { type ActionContext, type ActionModule } from './action.ts';
import {
  ActionError,
  fieldManager,
  type Backup,
  type FieldSnapshot,
  type ObjectRef,
  type TargetRef,
} from '../../domain/actions.ts';
import { makeBackup, readFields, readObject, restoreFields } from './fields.ts';
import { describeRef, readTarget, resourceVersionOf, targetObjectRef } from './target.ts';

const minReplicas = '/spec/minReplicas';
const maxReplicas = '/spec/maxReplicas';

interface HorizontalPodAutoscaler {
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: {
    scaleTargetRef: { apiVersion?: string; kind: string; name: string };
    minReplicas?: number;
    maxReplicas: number;
  };
}

const hpaRef = (namespace: string, name: string): ObjectRef => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  namespace,
  name,
});

function adjustBlock(action: Action) {
  const block = action.adjustHPA;
  if (!block || (block.minReplicas === undefined && block.maxReplicas === undefined))
    throw new ActionError(
      'Invalid',
      'action AdjustHPA needs the adjustHPA block with minReplicas, maxReplicas or both',
    );
  return block;
}

/** The pointers this action writes: only the bounds the policy sets. */
function pointersOf(action: Action): string[] {
  const block = adjustBlock(action);
  return [
    ...(block.minReplicas !== undefined ? [minReplicas] : []),
    ...(block.maxReplicas !== undefined ? [maxReplicas] : []),
  ];
}

const scales = (hpa: HorizontalPodAutoscaler, target: TargetRef) => {
  const ref = hpa.spec.scaleTargetRef;
  return (
    ref.kind === target.kind && ref.name === target.name && (ref.apiVersion ?? 'apps/v1').startsWith('apps/')
  );
};

async function findHpa(ctx: ActionContext, target: TargetRef, name: string | undefined) {
  const namespace = target.namespace ?? '';
  if (name) {
    let hpa: HorizontalPodAutoscaler;
    try {
      hpa = (await readObject(ctx, hpaRef(namespace, name))) as unknown as HorizontalPodAutoscaler;
    } catch (error) {
      if (error instanceof KubeRequestError && error.status === 404)
        throw new ActionError(
          'NotApplicable',
          `no HorizontalPodAutoscaler named ${name} in namespace ${namespace}`,
        );
      throw error;
    }
    if (!scales(hpa, target)) {
      const ref = hpa.spec.scaleTargetRef;
      throw new ActionError(
        'NotApplicable',
        `HorizontalPodAutoscaler ${namespace}/${name} scales ${ref.kind} ${ref.name}, not ${describeRef(target)}`,
      );
    }
    return hpa;
  }
  const list = await kubeRequest<{ items: HorizontalPodAutoscaler[] }>(ctx.kubeconfig, {
    method: 'GET',
    path: `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers`,
  });
  const matching = list.items.filter((hpa) => scales(hpa, target));
  const [only] = matching;
  if (only === undefined)
    throw new ActionError(
      'NotApplicable',
      `no HorizontalPodAutoscaler in namespace ${namespace} scales ${describeRef(target)}; AdjustHPA needs one`,
    );
  if (matching.length > 1)
    throw new ActionError(
      'Invalid',
      `${matching.length} HorizontalPodAutoscalers scale ${describeRef(target)} ` +
        `(${matching.map((h) => h.metadata.name).join(', ')}); name one in adjustHPA.name`,
    );
  return only;
}

const show = (value: unknown) => (value === null || value === undefined ? 'unset' : String(value));

export const adjustHPA: ActionModule = {
  type: 'AdjustHPA',

  async backup(ctx, target, action): Promise<Backup> {
    if (target.kind !== 'Deployment' && target.kind !== 'StatefulSet')
      throw new ActionError(
        'NotApplicable',
        `AdjustHPA acts on Deployments and StatefulSets, not on a ${target.kind}`,
      );
    const pointers = pointersOf(action);
    await readTarget(ctx, targetObjectRef(target));
    const hpa = await findHpa(ctx, target, adjustBlock(action).name);
    return makeBackup({
      target,
      action: 'AdjustHPA',
      object: hpaRef(hpa.metadata.namespace, hpa.metadata.name),
      resourceVersion: resourceVersionOf(hpa as unknown as Record<string, unknown>),
      fields: readFields(hpa, pointers),
    });
  },

  async execute(ctx, target, action, backup) {
    const block = adjustBlock(action);
    const ref = backup.object;
    let current: HorizontalPodAutoscaler;
    try {
      current = (await readObject(ctx, ref)) as unknown as HorizontalPodAutoscaler;
    } catch (error) {
      if (error instanceof KubeRequestError && error.status === 404)
        throw new ActionError(
          'NotApplicable',
          `HorizontalPodAutoscaler ${ref.namespace}/${ref.name} was deleted`,
        );
      throw error;
    }
    // minReplicas defaults to 1 when unset.
    const min = block.minReplicas ?? current.spec.minReplicas ?? 1;
    const max = block.maxReplicas ?? current.spec.maxReplicas;
    if (min > max)
      throw new ActionError(
        'Invalid',
        `AdjustHPA would leave HorizontalPodAutoscaler ${ref.namespace}/${ref.name} with minReplicas ${min} ` +
          `above maxReplicas ${max}`,
      );
    const written: FieldSnapshot = {
      ...(block.minReplicas !== undefined ? { [minReplicas]: block.minReplicas } : {}),
      ...(block.maxReplicas !== undefined ? { [maxReplicas]: block.maxReplicas } : {}),
    };
    await kubeRequest(ctx.kubeconfig, {
      method: 'PATCH',
      path: objectPath(ref),
      query: { fieldManager, force: 'true', dryRun: ctx.dryRun ? 'All' : undefined },
      body: {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, namespace: ref.namespace },
        spec: {
          ...(block.minReplicas !== undefined ? { minReplicas: block.minReplicas } : {}),
          ...(block.maxReplicas !== undefined ? { maxReplicas: block.maxReplicas } : {}),
        },
      },
      contentType: 'application/apply-patch+yaml',
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
      summary: `${ctx.dryRun ? 'dry run: would set' : 'set'} HorizontalPodAutoscaler ${ref.name} ${described} (scales ${describeRef(target)})`,
    };
  },

  rollback: (ctx, backup, executed) => restoreFields(ctx, backup, executed.written),
};

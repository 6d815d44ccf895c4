/**
 * What bounds a scale-up besides the policy's own maxReplicas: the maximum factor in one run
 * (default 2×), the maxReplicas of an HPA that scales the same workload (scaling past it would
 * only be undone by the HPA), and ResourceQuota headroom for the extra Pods' requests — checked
 * at execute time, against the quota as it is then.
 */
import { AutoscalingV2Api, CoreV1Api, type V1ResourceQuota } from '@kubernetes/client-node';
import { parseQuantity } from '../../domain/conditions/readings.ts';
import { type ActionContext } from './action.ts';
import { ActionError, type ObjectRef } from '../../domain/actions.ts';
import { type KubeObject } from './target.ts';
import { targetDisplay } from '../../domain/run.ts';

export interface Guarded {
  to: number;
  notes: string[];
}

export async function guardScaleUp(
  ctx: ActionContext,
  ref: ObjectRef,
  workload: KubeObject,
  from: number,
  wanted: number,
  maxFactor: number,
): Promise<Guarded> {
  const notes: string[] = [];
  let to = wanted;
  if (to <= from) return { to, notes };
  const byFactor = Math.max(1, Math.floor(from * maxFactor));
  if (to > byFactor) {
    to = byFactor;
    notes.push(`capped at ${maxFactor}× the current count`);
  }
  const hpaMax = await hpaMaxReplicas(ctx, ref);
  if (hpaMax !== undefined && to > hpaMax) {
    to = Math.max(from, hpaMax);
    notes.push(`capped at the HPA's maxReplicas ${hpaMax}`);
  }
  // Only the Pods not there yet need room: a retry after the first attempt already scaled (so
  // the quota already counts them) must not be refused for its own Pods.
  const current = Number((workload as { spec?: { replicas?: number } }).spec?.replicas ?? from);
  await refuseBeyondQuota(ctx, ref, workload, to - Math.max(from, current));
  return { to, notes };
}

async function hpaMaxReplicas(ctx: ActionContext, ref: ObjectRef): Promise<number | undefined> {
  const hpas = await ctx.ownKubeconfig
    .makeApiClient(AutoscalingV2Api)
    .listNamespacedHorizontalPodAutoscaler({ namespace: ref.namespace! });
  const scaling = hpas.items.find(
    (h) => h.spec?.scaleTargetRef.kind === ref.kind && h.spec.scaleTargetRef.name === ref.name,
  );
  return scaling?.spec?.maxReplicas;
}

/** The sum of a Pod's container requests (or limits) for one resource. */
function perPod(workload: KubeObject, field: 'requests' | 'limits', resource: string): number {
  const containers =
    (
      workload as {
        spec?: {
          template?: { spec?: { containers?: { resources?: Record<string, Record<string, string>> }[] } };
        };
      }
    ).spec?.template?.spec?.containers ?? [];
  return containers.reduce((sum, c) => sum + parseQuantity(c.resources?.[field]?.[resource] ?? '0'), 0);
}

async function refuseBeyondQuota(
  ctx: ActionContext,
  ref: ObjectRef,
  workload: KubeObject,
  extraPods: number,
) {
  const quotas = await ctx.ownKubeconfig
    .makeApiClient(CoreV1Api)
    .listNamespacedResourceQuota({ namespace: ref.namespace! });
  for (const quota of quotas.items) {
    for (const [resource, need] of demand(workload, extraPods)) {
      const headroom = headroomOf(quota, resource);
      if (headroom !== undefined && need > headroom) {
        throw new ActionError(
          'Quota',
          `ResourceQuota ${quota.metadata?.name} leaves ${headroom} of ${resource} in ${ref.namespace}; ` +
            `${extraPods} more Pods of ${targetDisplay(ref)} need ${need}`,
        );
      }
    }
  }
}

function demand(workload: KubeObject, extraPods: number): [string, number][] {
  return [
    ['pods', extraPods],
    ['requests.cpu', extraPods * perPod(workload, 'requests', 'cpu')],
    ['requests.memory', extraPods * perPod(workload, 'requests', 'memory')],
    ['limits.cpu', extraPods * perPod(workload, 'limits', 'cpu')],
    ['limits.memory', extraPods * perPod(workload, 'limits', 'memory')],
  ];
}

function headroomOf(quota: V1ResourceQuota, resource: string): number | undefined {
  const hard = quota.status?.hard?.[resource] ?? quota.spec?.hard?.[resource];
  if (hard === undefined) return undefined;
  return parseQuantity(hard) - parseQuantity(quota.status?.used?.[resource] ?? '0');
}

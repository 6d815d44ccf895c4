/**
 * Restart one pod by evicting it: the Pod named by the target, or one pod of a Deployment or
 * StatefulSet — the one with most container restarts, the oldest on a tie. An eviction, not a
 * delete, so the pod's PodDisruptionBudgets hold: while one forbids it, the action waits a little
 * (well inside its activity's timeout), then refuses with DisruptionBudget, naming the budgets.
 * The backup records the pod and its uid; the eviction carries that uid as a precondition, so a
 * retried execute never evicts the replacement (a StatefulSet's has the same name). It cannot be
 * undone. The backup also keeps the pod's evidence: its last logs, Events and status.
 */
import { collectionPath, kubeRequest } from '../../domain/kube/request.ts';
import { type ActionContext, type ActionModule } from './action.ts';
import { ActionError, type ObjectRef, type TargetRef } from '../../domain/actions.ts';
import { budgetsFor, currentPod, evictWithBackoff } from './eviction.ts';
import { readPointer } from './fields.ts';
import { executed, podSelector, snapshot, targetObject } from './workloads.ts';
import { type KubeObject, readTarget } from './target.ts';
import { targetDisplay } from '../../domain/run.ts';
import { asRefusal } from '../../domain/kube/errors.ts';
import type { V1Pod } from '@kubernetes/client-node';
import { captureEvidence } from './evidence.ts';

const uidPointer = '/metadata/uid';

const controllerOf = (object: KubeObject) =>
  (
    (readPointer(object, '/metadata/ownerReferences') ?? []) as {
      kind: string;
      name: string;
      controller?: boolean;
    }[]
  ).find((owner) => owner.controller);

/**
 * Why the pod is not one of the target's, or undefined: the Pod targeted by name itself, a pod
 * the StatefulSet controls, or one whose ReplicaSet the Deployment controls. The backup names the
 * pod and comes back through the workflow: a forged one must not restart another workload's pod.
 */
async function notTargets(
  ctx: ActionContext,
  pod: KubeObject,
  target: TargetRef,
): Promise<string | undefined> {
  const name = text(pod, '/metadata/name');
  const controller = controllerOf(pod);
  const mismatch = `it is not a pod of ${targetDisplay(target)}`;
  switch (target.kind) {
    case 'Pod':
      return name === target.name ? undefined : mismatch;
    case 'StatefulSet':
      return controller?.kind === 'StatefulSet' && controller.name === target.name ? undefined : mismatch;
    default: {
      if (controller?.kind !== 'ReplicaSet') return mismatch;
      // Listed by name, not read: the chart grants the worker list on ReplicaSets, not get.
      const replicaSet = (
        await kubeRequest<{ items: KubeObject[] }>(ctx.ownKubeconfig, {
          method: 'GET',
          path: collectionPath({ apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: target.namespace }),
          query: { fieldSelector: `metadata.name=${controller.name}` },
        })
      ).items[0];
      const owner = replicaSet && controllerOf(replicaSet);
      return owner?.kind === target.kind && owner.name === target.name ? undefined : mismatch;
    }
  }
}
/** How long a PodDisruptionBudget may hold the eviction up: the execute activity times out at 30 s. */
const budgetWaitMs = 20_000;

const restartsOf = (pod: KubeObject) =>
  ((readPointer(pod, '/status/containerStatuses') ?? []) as { restartCount?: number }[]).reduce(
    (sum, c) => sum + (c.restartCount ?? 0),
    0,
  );
const text = (pod: KubeObject, pointer: string) => String(readPointer(pod, pointer) ?? '');

/** Most restarts first, then the oldest, then by name so the choice is stable. */
const mostRestartedFirst = (a: KubeObject, b: KubeObject) =>
  restartsOf(b) - restartsOf(a) ||
  text(a, '/metadata/creationTimestamp').localeCompare(text(b, '/metadata/creationTimestamp')) ||
  text(a, '/metadata/name').localeCompare(text(b, '/metadata/name'));

async function choosePod(ctx: ActionContext, target: TargetRef): Promise<KubeObject> {
  const ref = targetObject(target);
  const object = await readTarget(ctx, ref);
  if (target.kind === 'Pod') return object;
  const labelSelector = podSelector(object, ref);
  let pods: KubeObject[];
  try {
    // Raw, not typed: the pods are compared and backed up by JSON Pointer, as the API server wrote them.
    pods = (
      await kubeRequest<{ items: KubeObject[] }>(ctx.kubeconfig, {
        method: 'GET',
        path: collectionPath({ apiVersion: 'v1', kind: 'Pod', namespace: ref.namespace }),
        query: { labelSelector },
      })
    ).items;
  } catch (error) {
    throw asRefusal(error, targetDisplay(ref));
  }
  const [pod] = pods
    .filter((p) => readPointer(p, '/metadata/deletionTimestamp') === null)
    .sort(mostRestartedFirst);
  if (!pod) throw new ActionError('NotApplicable', `${targetDisplay(ref)} has no running pod to restart`);
  return pod;
}

const podRef = (pod: KubeObject): ObjectRef => ({
  apiVersion: 'v1',
  kind: 'Pod',
  namespace: text(pod, '/metadata/namespace'),
  name: text(pod, '/metadata/name'),
});

export const restartPod: ActionModule = {
  type: 'RestartPod',
  async backup(ctx, target) {
    const pod = await choosePod(ctx, target);
    // Its logs, Events and status go with the eviction: kept first (evidence.ts).
    const evidence = await captureEvidence(ctx, [pod as V1Pod]);
    return { ...snapshot(target, 'RestartPod', podRef(pod), pod, [uidPointer]), evidence };
  },
  async execute(ctx, target, _action, backup) {
    const pod = { metadata: { name: backup.object.name, namespace: backup.object.namespace ?? '' } };
    const uid = String(backup.fields[uidPointer]);
    const result = await evictWithBackoff(ctx, pod, Date.now() + budgetWaitMs, uid, (current) =>
      notTargets(ctx, current, target),
    ).catch((error: unknown) => {
      throw asRefusal(error, targetDisplay(backup.object));
    });
    if (result === 'blocked') {
      const current = await currentPod(ctx, pod);
      const budgets = current ? await budgetsFor(ctx, current) : [];
      throw new ActionError(
        'DisruptionBudget',
        `${targetDisplay(backup.object)} was not restarted: a PodDisruptionBudget forbids evicting it now` +
          ` (${budgets.length > 0 ? budgets.join('; ') : 'none selects it any more'})`,
      );
    }
    const gone = result === 'gone' ? '; it was already gone' : '';
    const of = target.kind === 'Pod' ? '' : ` of ${targetDisplay(target)}`;
    return executed(ctx, backup, {}, `deleted ${targetDisplay(backup.object)} (uid ${uid})${of}${gone}`);
  },
  async rollback() {
    return {
      outcome: 'NotReversible',
      reason: 'a deleted pod cannot be restored; its controller recreates it',
      restored: {},
      conflicts: [],
    };
  },
};

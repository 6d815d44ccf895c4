/**
 * Taking a pod away through the Eviction API, as `kubectl drain` does, so PodDisruptionBudgets
 * hold: the API server refuses an eviction with 429 while a budget forbids it. Shared by
 * DrainNode (every pod of a node) and RestartPod (one pod, by uid).
 */
import { CoreV1Api, PolicyV1Api, type V1Pod } from '@kubernetes/client-node';
import { selectorMatches } from '../../api/label-selector.ts';
import { asRefusal, failedWith } from '../../domain/kube/errors.ts';
import { type ActionContext, pause } from './action.ts';
import type { ObjectMeta } from './target.ts';
import { type GuardOptions, guardWrite } from './write-guard.ts';

export interface Pod {
  metadata: Pick<ObjectMeta, 'name' | 'namespace'> & Partial<ObjectMeta>;
}

/** Pods as the API server lists them: always named, and in a namespace. */
export const named = (pod: V1Pod) => pod as Pod;

export const podRef = (pod: Pod) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  namespace: pod.metadata.namespace,
  name: pod.metadata.name,
});

export const podKey = (pod: Pod) => `${pod.metadata.namespace}/${pod.metadata.name}`;

/** evicted; gone (already, or replaced by a pod of the same name when a uid was given); blocked by a budget. */
export type Eviction = 'evicted' | 'gone' | 'blocked';

/**
 * One eviction; with `uid`, only of that very pod (a StatefulSet's replacement has the same name).
 * `owned` says why the pod as it is now is not one the action may evict (guardWrite).
 */
async function evict(
  ctx: ActionContext,
  pod: Pod,
  uid?: string,
  owned?: GuardOptions['owned'],
): Promise<Eviction> {
  const { name, namespace } = pod.metadata;
  await guardWrite(ctx, podRef(pod), { owned });
  try {
    await ctx.kubeconfig.makeApiClient(CoreV1Api).createNamespacedPodEviction({
      name,
      namespace,
      dryRun: ctx.dryRun ? 'All' : undefined,
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name, namespace },
        deleteOptions: uid ? { preconditions: { uid } } : undefined,
      },
    });
    return 'evicted';
  } catch (error) {
    if (failedWith(error, 404)) return 'gone';
    if (failedWith(error, 429)) return 'blocked';
    if (failedWith(error, 409) && uid && (await currentPod(ctx, pod))?.metadata.uid !== uid) return 'gone';
    throw asRefusal(error, `the eviction of pod ${podKey(pod)}`);
  }
}

/** The pod that now has this name (perhaps a replacement); undefined when there is none. */
export async function currentPod(ctx: ActionContext, pod: Pod): Promise<Pod | undefined> {
  try {
    const { name, namespace } = pod.metadata;
    return named(await ctx.kubeconfig.makeApiClient(CoreV1Api).readNamespacedPod({ name, namespace }));
  } catch (error) {
    if (failedWith(error, 404)) return undefined;
    throw error;
  }
}

/** The PodDisruptionBudgets that select the pod, with their numbers (the 429 itself does not name them). */
export async function budgetsFor(ctx: ActionContext, pod: Pod): Promise<string[]> {
  const list = await ctx.kubeconfig
    .makeApiClient(PolicyV1Api)
    .listNamespacedPodDisruptionBudget({ namespace: pod.metadata.namespace })
    .catch(() => ({ items: [] }));
  return list.items
    .filter((pdb) => selectorMatches(pdb.spec?.selector, pod.metadata.labels ?? {}))
    .map((pdb) => {
      const s = pdb.status;
      return `PodDisruptionBudget ${pdb.metadata?.namespace}/${pdb.metadata?.name} (needs ${s?.desiredHealthy ?? '?'} healthy, has ${s?.currentHealthy ?? '?'}, allows ${s?.disruptionsAllowed ?? 0} disruptions)`;
    });
}

/** Evicts one pod, retrying while a PodDisruptionBudget forbids it, until the deadline. */
export async function evictWithBackoff(
  ctx: ActionContext,
  pod: Pod,
  deadline: number,
  uid?: string,
  owned?: GuardOptions['owned'],
): Promise<Eviction> {
  let delay = 250;
  for (;;) {
    const result = await evict(ctx, pod, uid, owned);
    // A dry run reports what a real eviction would meet now; it does not wait for budgets.
    if (result !== 'blocked' || ctx.dryRun) return result;
    const left = deadline - Date.now();
    if (left <= 0) return 'blocked';
    ctx.heartbeat({ waitingFor: podKey(pod), reason: 'PodDisruptionBudget' });
    await pause(ctx, Math.min(delay, left));
    delay = Math.min(delay * 2, 5_000);
  }
}

/**
 * DrainNode: cordon the node (the CordonNode code), then evict every pod on it through the
 * Eviction API, as `kubectl drain` does — DaemonSet pods and mirror pods stay, since their
 * controllers would put them straight back. The API server refuses an eviction with 429 while
 * a PodDisruptionBudget forbids it; those are retried with backoff until `drainNode.timeout`.
 * Rollback uncordons; the evicted pods were replaced by their controllers elsewhere and are
 * not moved back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Action } from '../../api/policy.ts';
import { parseDuration } from '../duration.ts';
import { KubeRequestError, kubeRequest } from '../kube/request.ts';
import { ActionError, type ActionContext, type ActionModule, type ExecuteResult } from './action.ts';
import { backupUnschedulable, cordon } from './cordon-node.ts';
import { restoreFields } from './fields.ts';
import type { ObjectMeta } from './target.ts';

interface Pod {
  metadata: ObjectMeta;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

interface PodDisruptionBudget {
  metadata: { name: string; namespace: string };
  spec?: { selector?: LabelSelector | null };
  status?: { disruptionsAllowed?: number; currentHealthy?: number; desiredHealthy?: number };
}

/** What execute remembers for rollback: the pods it evicted, as namespace/name. */
export interface DrainExecuteResult extends ExecuteResult {
  drain: { evicted: string[]; alreadyGone: string[] };
}

const mirrorAnnotation = 'kubernetes.io/config.mirror';
const podKey = (pod: Pod) => `${pod.metadata.namespace}/${pod.metadata.name}`;
const podPath = (pod: Pod) => `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;

/** Pods a drain leaves alone: the node runs mirror pods itself, DaemonSets recreate theirs in place. */
function skipReason(pod: Pod): string | undefined {
  if (pod.metadata.annotations?.[mirrorAnnotation] !== undefined) return 'mirror pod';
  if (pod.metadata.ownerReferences?.some((o) => o.controller && o.kind === 'DaemonSet'))
    return 'DaemonSet pod';
  return undefined;
}

export function selectorMatches(selector: LabelSelector | null | undefined, labels: Record<string, string>) {
  // policy/v1: a null selector selects no pods, an empty one selects every pod in the namespace.
  if (selector === null || selector === undefined) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        return value !== undefined && (e.values ?? []).includes(value);
      case 'NotIn':
        return value === undefined || !(e.values ?? []).includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      default:
        return false;
    }
  });
  return byLabels && byExpressions;
}

type Eviction = 'evicted' | 'gone' | 'blocked';

async function evict(ctx: ActionContext, pod: Pod): Promise<Eviction> {
  try {
    await kubeRequest(ctx.kubeconfig, {
      method: 'POST',
      path: `${podPath(pod)}/eviction`,
      query: { dryRun: ctx.dryRun ? 'All' : undefined },
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace },
      },
    });
    return 'evicted';
  } catch (error) {
    if (!(error instanceof KubeRequestError)) throw error;
    if (error.status === 404) return 'gone';
    if (error.status === 429) return 'blocked';
    if (error.status === 403)
      throw new ActionError('Forbidden', `not allowed to evict ${podKey(pod)}: ${error.message}`);
    throw error;
  }
}

/** The PodDisruptionBudgets that select the pod (the 429 itself does not name them to us). */
async function budgetsFor(ctx: ActionContext, pod: Pod): Promise<string[]> {
  const list = await kubeRequest<{ items: PodDisruptionBudget[] }>(ctx.kubeconfig, {
    method: 'GET',
    path: `/apis/policy/v1/namespaces/${pod.metadata.namespace}/poddisruptionbudgets`,
  }).catch(() => ({ items: [] as PodDisruptionBudget[] }));
  return list.items
    .filter((pdb) => selectorMatches(pdb.spec?.selector, pod.metadata.labels ?? {}))
    .map((pdb) => {
      const s = pdb.status ?? {};
      return `PodDisruptionBudget ${pdb.metadata.namespace}/${pdb.metadata.name} (needs ${s.desiredHealthy ?? '?'} healthy, has ${s.currentHealthy ?? '?'}, allows ${s.disruptionsAllowed ?? 0} disruptions)`;
    });
}

/** Evicts one pod, retrying while a PodDisruptionBudget forbids it, until the deadline. */
async function evictWithBackoff(ctx: ActionContext, pod: Pod, deadline: number): Promise<Eviction> {
  let delay = 250;
  for (;;) {
    const result = await evict(ctx, pod);
    // A dry run reports what a real drain would meet now; it does not wait for budgets.
    if (result !== 'blocked' || ctx.dryRun) return result;
    const left = deadline - Date.now();
    if (left <= 0) return 'blocked';
    ctx.heartbeat({ waitingFor: podKey(pod), reason: 'PodDisruptionBudget' });
    await sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, 5_000);
  }
}

/** Waits until each evicted pod is gone (or replaced under the same name by a new one). */
async function waitGone(ctx: ActionContext, pods: Pod[], deadline: number): Promise<Pod[]> {
  let remaining = pods;
  for (;;) {
    const still = await Promise.all(
      remaining.map(async (pod) => {
        try {
          const current = await kubeRequest<Pod>(ctx.kubeconfig, { method: 'GET', path: podPath(pod) });
          return current.metadata.uid === pod.metadata.uid ? pod : undefined;
        } catch (error) {
          if (error instanceof KubeRequestError && error.status === 404) return undefined;
          throw error;
        }
      }),
    );
    remaining = still.filter((p): p is Pod => p !== undefined);
    if (remaining.length === 0 || Date.now() >= deadline) return remaining;
    ctx.heartbeat({ terminating: remaining.map(podKey) });
    await sleep(500);
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const drainNode: ActionModule = {
  type: 'DrainNode',
  kinds: ['Node'],
  backup: (ctx, target) => backupUnschedulable(ctx, target, 'DrainNode'),

  async execute(ctx, target, action: Action, backup): Promise<DrainExecuteResult> {
    const timeout = action.drainNode?.timeout ?? '5m';
    const deadline = Date.now() + parseDuration(timeout);
    const cordoned = await cordon(ctx, target, backup);

    const list = await kubeRequest<{ items: Pod[] }>(ctx.kubeconfig, {
      method: 'GET',
      path: '/api/v1/pods',
      query: { fieldSelector: `spec.nodeName=${target.name}` },
    });
    const pods = list.items.filter((pod) => skipReason(pod) === undefined);
    const results = await Promise.all(pods.map((pod) => evictWithBackoff(ctx, pod, deadline)));
    const withResult = (wanted: Eviction) => pods.filter((_, i) => results[i] === wanted);
    const evicted = withResult('evicted');
    const alreadyGone = withResult('gone');
    const blocked = withResult('blocked');

    if (blocked.length > 0 && !ctx.dryRun) {
      const budgets = [...new Set((await Promise.all(blocked.map((p) => budgetsFor(ctx, p)))).flat())];
      throw new Error(
        `drain of node ${target.name} gave up after ${timeout}: ${plural(blocked.length, 'pod')} could not be ` +
          `evicted because a PodDisruptionBudget forbids it (${blocked.map(podKey).join(', ')}; ` +
          `${budgets.length > 0 ? budgets.join('; ') : 'no PodDisruptionBudget selects them any more'}). ` +
          `${plural(evicted.length, 'other pod')} evicted; the node stays cordoned until rolled back.`,
      );
    }
    if (!ctx.dryRun) {
      const terminating = await waitGone(ctx, evicted, deadline);
      if (terminating.length > 0) {
        throw new Error(
          `drain of node ${target.name}: ${plural(terminating.length, 'evicted pod')} still terminating after ` +
            `${timeout} (${terminating.map(podKey).join(', ')}); the node stays cordoned until rolled back`,
        );
      }
    }

    const skipped = list.items.length - pods.length;
    const kept = skipped > 0 ? `; left ${plural(skipped, 'DaemonSet or mirror pod')}` : '';
    const gone = alreadyGone.length > 0 ? ` (${alreadyGone.length} already gone)` : '';
    const summary = ctx.dryRun
      ? `dry run: would cordon node ${target.name} and evict ${plural(evicted.length, 'pod')}` +
        (blocked.length > 0
          ? `; ${plural(blocked.length, 'pod')} (${blocked.map(podKey).join(', ')}) are blocked now by a PodDisruptionBudget`
          : '') +
        kept
      : `drained node ${target.name}: ${cordoned.alreadyCordoned ? 'already cordoned' : 'cordoned'}, evicted ${plural(evicted.length, 'pod')}${gone}${kept}`;
    return {
      written: cordoned.written,
      changes: cordoned.changes,
      summary,
      drain: { evicted: evicted.map(podKey), alreadyGone: alreadyGone.map(podKey) },
    };
  },

  async rollback(ctx, backup, executed) {
    const result = await restoreFields(ctx, backup, executed.written);
    const evicted = (executed as Partial<DrainExecuteResult>).drain?.evicted.length ?? 0;
    const pods = `the ${plural(evicted, 'evicted pod')} ${evicted === 1 ? 'was' : 'were'} rescheduled by their controllers and are not moved back`;
    const node = backup.target.name;
    switch (result.outcome) {
      case 'RolledBack':
        return { ...result, reason: `uncordoned node ${node}; ${pods}` };
      case 'NothingToRestore':
        return {
          ...result,
          reason: `node ${node} already holds its state from before the drain (${result.reason}); ${pods}`,
        };
      default:
        return { ...result, reason: `${result.reason}; ${pods}` };
    }
  },
};

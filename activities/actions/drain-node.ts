/**
 * DrainNode: cordon the node (the CordonNode code), then evict every pod on it through the
 * Eviction API, as `kubectl drain` does — DaemonSet pods and mirror pods stay, since their
 * controllers would put them straight back — and protected pods stay too (a protected namespace,
 * kube-system and KubeMedic's own among them, or the protected label on the pod or its
 * namespace: the guard every write meets, write-guard.ts), each named with why in the summary.
 * The API server refuses an eviction with 429 while
 * a PodDisruptionBudget forbids it; those are retried with backoff until `drainNode.timeout`.
 * Rollback uncordons; the evicted pods were replaced by their controllers elsewhere and are
 * not moved back. The backup keeps the evidence of the pods it would evict (evidence.ts).
 */
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { captureEvidence } from './evidence.ts';
import { asRefusal } from '../../domain/kube/errors.ts';
import { type ActionContext, type ActionModule, deadlineOf, parametersOf, pause } from './action.ts';
import { type ExecuteResult, StepFailure } from '../../domain/actions.ts';
import { backupUnschedulable, cordon } from './cordon-node.ts';
import { restoreFields } from './fields.ts';
import {
  budgetsFor,
  currentPod,
  type Eviction,
  evictWithBackoff,
  named,
  type Pod,
  podKey,
  podRef,
} from './eviction.ts';
import { writeRefusal } from './write-guard.ts';

/** What execute did besides cordoning: the pods it evicted, as namespace/name; rollback names them. */
export interface DrainExecuteResult extends ExecuteResult {
  drain: { evicted: string[]; alreadyGone: string[] };
}

const mirrorAnnotation = 'kubernetes.io/config.mirror';

/**
 * Why a drain leaves the pod alone: the node runs mirror pods itself, DaemonSets recreate theirs
 * in place, and a pod the guard refuses is never evicted (the eviction would be refused anyway;
 * here it is skipped and said, so the rest of the node still drains).
 */
async function skipReason(ctx: ActionContext, pod: Pod): Promise<string | undefined> {
  if (pod.metadata.annotations?.[mirrorAnnotation] !== undefined) return 'mirror pod';
  if (pod.metadata.ownerReferences?.some((o) => o.controller && o.kind === 'DaemonSet'))
    return 'DaemonSet pod';
  return (await writeRefusal(ctx, podRef(pod)))?.message;
}

/** Waits until each evicted pod is gone (or replaced under the same name by a new one). */
async function waitGone(ctx: ActionContext, pods: Pod[], deadline: number): Promise<Pod[]> {
  let remaining = pods;
  for (;;) {
    const still = await Promise.all(
      remaining.map(async (pod) =>
        (await currentPod(ctx, pod))?.metadata.uid === pod.metadata.uid ? pod : undefined,
      ),
    );
    remaining = still.filter((p): p is Pod => p !== undefined);
    if (remaining.length === 0 || Date.now() >= deadline) return remaining;
    ctx.heartbeat({ terminating: remaining.map(podKey) });
    await pause(ctx, 500);
  }
}

/** The pods on the node a drain evicts, and those it leaves with why (`namespace/name: reason`). */
async function podsToEvict(ctx: ActionContext, node: string): Promise<{ pods: Pod[]; skipped: string[] }> {
  const onNode = await ctx.kubeconfig
    .makeApiClient(CoreV1Api)
    .listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })
    .catch((error: unknown) => {
      throw asRefusal(error, `the pods of node ${node}`);
    });
  const listed = onNode.items.map(named);
  const reasons = await Promise.all(listed.map((pod) => skipReason(ctx, pod)));
  return {
    pods: listed.filter((_, i) => reasons[i] === undefined),
    skipped: listed.flatMap((pod, i) => (reasons[i] === undefined ? [] : [`${podKey(pod)}: ${reasons[i]}`])),
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const drainNode: ActionModule<DrainExecuteResult> = {
  type: 'DrainNode',
  /** The node's schedulability, and the evidence of the pods a drain would evict (evidence.ts). */
  async backup(ctx, target) {
    const backup = await backupUnschedulable(ctx, target, 'DrainNode');
    const { pods } = await podsToEvict(ctx, target.name);
    return { ...backup, evidence: await captureEvidence(ctx, pods as V1Pod[]) };
  },

  async execute(ctx, target, action, backup) {
    const timeout = parametersOf(action, 'drainNode').timeout ?? '5m';
    // From the first attempt: a retried drain does not start its timeout again.
    const deadline = deadlineOf(ctx, timeout);
    const cordoned = await cordon(ctx, target, backup);

    const { pods, skipped } = await podsToEvict(ctx, target.name);
    // A pod evicted for this drain is one still on this node (not a same-named pod since elsewhere).
    const onThisNode = (pod: Record<string, unknown>) =>
      (pod as { spec?: { nodeName?: string } }).spec?.nodeName === target.name
        ? undefined
        : `it is not on node ${target.name}`;
    const results = await Promise.all(
      pods.map((pod) => evictWithBackoff(ctx, pod, deadline, undefined, onThisNode)),
    );
    const withResult = (wanted: Eviction) => pods.filter((_, i) => results[i] === wanted);
    const evicted = withResult('evicted');
    const alreadyGone = withResult('gone');
    const blocked = withResult('blocked');

    // What a failed drain had done, so its rollback uncordons the node and names the evicted pods.
    const sofar = (summary: string): DrainExecuteResult => ({
      written: cordoned.written,
      changes: cordoned.changes,
      summary,
      drain: { evicted: evicted.map(podKey), alreadyGone: alreadyGone.map(podKey) },
    });
    if (blocked.length > 0 && !ctx.dryRun) {
      const budgets = [...new Set((await Promise.all(blocked.map((p) => budgetsFor(ctx, p)))).flat())];
      const message =
        `drain of node ${target.name} gave up after ${timeout}: ${plural(blocked.length, 'pod')} could not be ` +
        `evicted because a PodDisruptionBudget forbids it (${blocked.map(podKey).join(', ')}; ` +
        `${budgets.length > 0 ? budgets.join('; ') : 'no PodDisruptionBudget selects them any more'}). ` +
        `${plural(evicted.length, 'other pod')} evicted; the node stays cordoned until rolled back.`;
      throw new StepFailure(message, sofar(message));
    }
    if (!ctx.dryRun) {
      const terminating = await waitGone(ctx, evicted, deadline);
      if (terminating.length > 0) {
        const message =
          `drain of node ${target.name}: ${plural(terminating.length, 'evicted pod')} still terminating after ` +
          `${timeout} (${terminating.map(podKey).join(', ')}); the node stays cordoned until rolled back`;
        throw new StepFailure(message, sofar(message));
      }
    }

    const kept = skipped.length > 0 ? `; left ${plural(skipped.length, 'pod')} (${skipped.join('; ')})` : '';
    const gone = alreadyGone.length > 0 ? ` (${alreadyGone.length} already gone)` : '';
    const summary = ctx.dryRun
      ? `dry run: would cordon node ${target.name} and evict ${plural(evicted.length, 'pod')}` +
        (blocked.length > 0
          ? `; ${plural(blocked.length, 'pod')} (${blocked.map(podKey).join(', ')}) are blocked now by a PodDisruptionBudget`
          : '') +
        kept
      : `drained node ${target.name}: ${cordoned.alreadyCordoned ? 'already cordoned' : 'cordoned'}, evicted ${plural(evicted.length, 'pod')}${gone}${kept}`;
    return sofar(summary);
  },

  async rollback(ctx, backup, executed) {
    const result = await restoreFields(ctx, backup, executed.written);
    const evicted = executed.drain.evicted.length;
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

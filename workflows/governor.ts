/**
 * The safety governor: a long-lived workflow (one per cluster, one per policy, one per namespace
 * when a per-namespace limit is set) that hands out
 * permits to act. Because one workflow decides every request in order, its limits hold exactly
 * however many watcher replicas start runs and whichever processes crash.
 *
 * - max concurrent: a request beyond the limit waits in a FIFO queue for a slot;
 * - max per hour (sliding window) and attempts per target per window: refused at once, except
 *   that while the hourly limit is reached only by counting grants still held (which may yet be
 *   given back unused) the request waits for them to settle, so it is not refused for a budget
 *   that frees up (a paused cluster governor must be the reason a storm's runs hear);
 * - pause: every request is refused until resume; runs already holding a permit go on.
 * - a permit released unused (its run was refused by a later governor and never acted) gives its
 *   grant back: it counts toward neither the hourly limit nor the target's attempts.
 * - storm cooldown: after the watcher reports a blast-radius storm (`stormDetected`), every
 *   request is refused until the cooldown has passed since the storm was last reported. It lives
 *   here, not in the watcher's memory, so a watcher restart does not forget it.
 *
 * Requests and answers are signals between workflows, so no activity waits on the governor.
 * The state is carried across continue-as-new, so the history never grows without bound.
 */
import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  type PermitRequest,
  type PermitAnswer,
  type GovernorState,
  requestPermitSignal,
  releasePermitSignal,
  pauseSignal,
  resumeSignal,
  stormDetectedSignal,
  permitSignal,
  governorStatusQuery,
} from '../domain/governor.ts';
import { workflowTime } from './workflow-time.ts';

const hourMs = 3_600_000;
/** Continue-as-new after this many decisions even if the server does not suggest it sooner. */
const defaultDecisionsPerRun = 500;

export async function governor(
  initial?: GovernorState,
  decisionsPerRun = defaultDecisionsPerRun,
): Promise<void> {
  const state: GovernorState = initial ?? { active: [], queue: [], granted: [], attempts: {} };
  const self = workflowInfo().workflowId;
  let decisions = 0;
  // Governors that started before it replay without waiting for held grants to settle.
  const settleHeldGrants = patched('rate-limit-waits-for-held-grants');

  setHandler(requestPermitSignal, (request) => {
    if (!state.queue.some((r) => r.workflowId === request.workflowId)) state.queue.push(request);
  });
  setHandler(releasePermitSignal, ({ workflowId, unused }) => {
    state.active = state.active.filter((id) => id !== workflowId);
    const grant = state.grants?.[workflowId];
    if (state.grants) delete state.grants[workflowId];
    // Governors that ran before refunds replay without them.
    if (unused && grant && patched('refund-unused-permits')) refund(state, grant);
  });
  setHandler(pauseSignal, ({ by, reason }) => {
    state.paused = { by: by ?? 'unknown', reason: reason ?? '' };
  });
  setHandler(resumeSignal, () => {
    state.paused = undefined;
  });
  setHandler(stormDetectedSignal, ({ cooldownMs, message }) => {
    // Governors that ran before storms were reported here replay without it.
    if (!patched('storm-cooldown')) return;
    const untilMs = workflowTime() + cooldownMs;
    // A storm seen again extends the cooldown; a shorter report never cuts one short.
    if (state.storm === undefined || untilMs >= state.storm.untilMs) state.storm = { untilMs, message };
  });
  setHandler(governorStatusQuery, () => ({
    active: [...state.active],
    queued: state.queue.length,
    grantedLastHour: state.granted.filter((t) => t > workflowTime() - hourMs).length,
    paused: state.paused,
    storm: state.storm && state.storm.untilMs > workflowTime() ? state.storm : undefined,
  }));

  for (;;) {
    await condition(
      () => decidable() || workflowInfo().continueAsNewSuggested || decisions >= decisionsPerRun,
    );
    while (decidable() && decisions < decisionsPerRun) {
      const request = state.queue.shift()!;
      const answer = decide(request);
      decisions += 1;
      // The run may be gone (terminated); its answer then has nobody to go to.
      await getExternalWorkflowHandle(request.workflowId)
        .signal(permitSignal, answer)
        .catch(() => {
          if (answer.granted) state.active = state.active.filter((id) => id !== request.workflowId);
        });
    }
    if (workflowInfo().continueAsNewSuggested || decisions >= decisionsPerRun) {
      await continueAsNew<typeof governor>(pruned(state), decisionsPerRun);
    }
  }

  /** The head of the queue can be answered now: refused, or granted within the concurrency limit. */
  function decidable(): boolean {
    const head = state.queue[0];
    if (head === undefined) return false;
    if (state.active.includes(head.workflowId)) return true;
    const refused = refusal(head);
    if (refused === 'wait') return false;
    if (refused !== undefined) return true;
    return head.limits.maxConcurrent === undefined || state.active.length < head.limits.maxConcurrent;
  }

  /** Why the request is refused now; `wait` when that depends on grants still held. */
  function refusal(request: PermitRequest): Omit<PermitAnswer, 'governor' | 'granted'> | 'wait' | undefined {
    const now = workflowTime();
    const { maxPerHour, maxAttemptsPerTarget, attemptsWindowMs = hourMs } = request.limits;
    if (state.paused) {
      return {
        code: 'paused',
        reason: `paused by ${state.paused.by}${state.paused.reason ? `: ${state.paused.reason}` : ''}`,
      };
    }
    if (state.storm && state.storm.untilMs > now) {
      return {
        code: 'storm-cooldown',
        reason: `after a storm (${state.storm.message}) no remediation of this policy starts until ${new Date(state.storm.untilMs).toISOString()}`,
      };
    }
    const lastHour = state.granted.filter((t) => t > now - hourMs).length;
    if (maxPerHour !== undefined && lastHour >= maxPerHour) {
      if (settleHeldGrants && lastHour - heldGrantsSince(now - hourMs) < maxPerHour) return 'wait';
      return {
        code: 'rate-limited',
        reason: `${lastHour} remediations in the last hour; the limit is ${maxPerHour}`,
      };
    }
    const inWindow = (state.attempts[request.targetKey] ?? []).filter((t) => t > now - attemptsWindowMs);
    const attempts = inWindow.length;
    if (maxAttemptsPerTarget !== undefined && attempts >= maxAttemptsPerTarget) {
      return {
        code: 'needs-attention',
        reason: `${attempts} attempts on this target within the window; the limit is ${maxAttemptsPerTarget}: a person should look`,
        // Below the limit again once enough of the oldest attempts have left the window.
        untilMs: inWindow[attempts - maxAttemptsPerTarget]! + attemptsWindowMs,
      };
    }
    return undefined;
  }

  /** Grants since `sinceMs` whose permits are still held: their runs may yet give them back unused. */
  function heldGrantsSince(sinceMs: number): number {
    return Object.entries(state.grants ?? {}).filter(
      ([id, grant]) => state.active.includes(id) && grant.atMs > sinceMs,
    ).length;
  }

  function decide(request: PermitRequest): PermitAnswer {
    if (state.active.includes(request.workflowId)) {
      return { governor: self, granted: true, code: 'granted', reason: 'already holds a permit' };
    }
    // Never `wait` here: decidable() said the head can be answered, and nothing changed since.
    const refused = refusal(request);
    if (refused && refused !== 'wait') return { governor: self, granted: false, ...refused };
    const now = workflowTime();
    state.active.push(request.workflowId);
    state.granted.push(now);
    state.attempts[request.targetKey] = [...(state.attempts[request.targetKey] ?? []), now];
    state.grants = { ...state.grants, [request.workflowId]: { atMs: now, targetKey: request.targetKey } };
    return {
      governor: self,
      granted: true,
      code: 'granted',
      reason: `${state.active.length} active after this grant`,
    };
  }
}

/** Takes back one grant: its time leaves the hourly count and the target's attempts. */
function refund(state: GovernorState, grant: { atMs: number; targetKey: string }): void {
  const withoutOne = (times: number[]) => {
    const index = times.lastIndexOf(grant.atMs);
    return index < 0 ? times : [...times.slice(0, index), ...times.slice(index + 1)];
  };
  state.granted = withoutOne(state.granted);
  const attempts = withoutOne(state.attempts[grant.targetKey] ?? []);
  if (attempts.length > 0) state.attempts[grant.targetKey] = attempts;
  else delete state.attempts[grant.targetKey];
}

/** Drops what no limit can look at any more, so the carried state stays small. */
function pruned(state: GovernorState): GovernorState {
  const horizon = workflowTime() - 24 * hourMs;
  return {
    ...state,
    storm: state.storm && state.storm.untilMs > workflowTime() ? state.storm : undefined,
    grants: Object.fromEntries(
      Object.entries(state.grants ?? {}).filter(([id]) => state.active.includes(id)),
    ),
    granted: state.granted.filter((t) => t > workflowTime() - hourMs),
    attempts: Object.fromEntries(
      Object.entries(state.attempts)
        .map(([key, times]) => [key, times.filter((t) => t > horizon)] as const)
        .filter(([, times]) => times.length > 0),
    ),
  };
}

/**
 * The governor's decisions as plain state: who holds a permit, who waits, what was granted
 * when. No Temporal API and no clock here (the workflow passes `now`), so every rule is
 * unit-tested without a server (test/unit/governor-ledger.test.ts); workflows/governor.ts only
 * feeds it messages and sends its answers.
 */
import type { GovernorState, GovernorStatus, PermitAnswer, PermitRequest } from '../domain/governor.ts';

export const hourMs = 3_600_000;
/** How long attempts are kept when a target's window is not known (state from older governors). */
const defaultAttemptsHorizonMs = 24 * hourMs;

type Refusal = Omit<PermitAnswer, 'governor' | 'granted'>;

export interface LedgerRules {
  /** While the hourly limit is reached only by grants still held, wait for them to settle. */
  settleHeldGrants: boolean;
  /**
   * A permit released unused gives its grant back. A function: the governor asks `patched()`
   * only at the moment a refund would happen, where older histories recorded the marker.
   */
  refundUnused: () => boolean;
}

export class GovernorLedger {
  constructor(
    readonly state: GovernorState,
    private readonly self: string,
    private readonly rules: LedgerRules,
  ) {}

  static empty(): GovernorState {
    return { active: [], queue: [], granted: [], attempts: {} };
  }

  request(request: PermitRequest): void {
    if (!this.state.queue.some((r) => r.workflowId === request.workflowId)) this.state.queue.push(request);
  }

  /**
   * A request asked by update (the run's activity waits on it): answered in the same workflow
   * task when it can be — its run already holds a grant (a retried ask), or it is the head of the
   * queue and decidable. Otherwise it waits in the queue like a signalled request, and its answer
   * goes out by signal when it comes: FIFO order and every limit stay exactly as for signals.
   */
  answerNow(request: PermitRequest, now: number): PermitAnswer | 'queued' {
    if (this.state.active.includes(request.workflowId)) return this.decide(request, now);
    this.request(request);
    if (this.state.queue[0]?.workflowId !== request.workflowId || !this.decidable(now)) return 'queued';
    return this.decideNext(now).answer;
  }

  /**
   * The run gives its permit back, or withdraws a request still queued (it was cancelled while
   * waiting): either way nothing stays held for it. `unused`: it never acted, so the grant's
   * time leaves the hourly count and the target's attempts.
   */
  release(workflowId: string, unused: boolean): void {
    const state = this.state;
    state.queue = state.queue.filter((r) => r.workflowId !== workflowId);
    state.active = state.active.filter((id) => id !== workflowId);
    const grant = state.grants?.[workflowId];
    if (state.grants) delete state.grants[workflowId];
    if (unused && grant && this.rules.refundUnused()) this.refund(grant);
  }

  pause(by: string, reason: string): void {
    this.state.paused = { by, reason };
  }

  resume(): void {
    this.state.paused = undefined;
  }

  stormReported(now: number, cooldownMs: number, message: string): void {
    const untilMs = now + cooldownMs;
    // A storm seen again extends the cooldown; a shorter report never cuts one short.
    if (this.state.storm === undefined || untilMs >= this.state.storm.untilMs) {
      this.state.storm = { untilMs, message };
    }
  }

  status(now: number): GovernorStatus {
    const state = this.state;
    return {
      active: [...state.active],
      queued: state.queue.length,
      grantedLastHour: state.granted.filter((t) => t > now - hourMs).length,
      paused: state.paused,
      storm: state.storm && state.storm.untilMs > now ? state.storm : undefined,
    };
  }

  /** The head of the queue can be answered now: refused, or granted within the concurrency limit. */
  decidable(now: number): boolean {
    const head = this.state.queue[0];
    if (head === undefined) return false;
    if (this.state.active.includes(head.workflowId)) return true;
    const refused = this.refusal(head, now);
    if (refused === 'wait') return false;
    if (refused !== undefined) return true;
    return head.limits.maxConcurrent === undefined || this.state.active.length < head.limits.maxConcurrent;
  }

  /** Answers the head of the queue; call only when decidable(now). */
  decideNext(now: number): { request: PermitRequest; answer: PermitAnswer } {
    const request = this.state.queue.shift()!;
    return { request, answer: this.decide(request, now) };
  }

  /** The runs holding grants, with the run each grant was given to (when known). */
  holders(): { workflowId: string; runId?: string }[] {
    return this.state.active.map((workflowId) => ({
      workflowId,
      runId: this.state.grants?.[workflowId]?.runId,
    }));
  }

  /** Where an answer found its run already closed: the grant has nobody to hold it. */
  runGone(workflowId: string): void {
    this.state.active = this.state.active.filter((id) => id !== workflowId);
    if (this.state.grants) delete this.state.grants[workflowId];
  }

  /** Drops what no limit can look at any more, so the state carried across continue-as-new stays small. */
  pruned(now: number): GovernorState {
    const state = this.state;
    const windowOf = (key: string) => state.attemptWindows?.[key] ?? defaultAttemptsHorizonMs;
    const attempts = Object.entries(state.attempts)
      .map(([key, times]) => [key, times.filter((t) => t > now - windowOf(key))] as const)
      .filter(([, times]) => times.length > 0);
    return {
      ...state,
      storm: state.storm && state.storm.untilMs > now ? state.storm : undefined,
      grants: Object.fromEntries(
        Object.entries(state.grants ?? {}).filter(([id]) => state.active.includes(id)),
      ),
      granted: state.granted.filter((t) => t > now - hourMs),
      attempts: Object.fromEntries(attempts),
      attemptWindows: Object.fromEntries(attempts.map(([key]) => [key, windowOf(key)])),
    };
  }

  private decide(request: PermitRequest, now: number): PermitAnswer {
    const state = this.state;
    if (state.active.includes(request.workflowId)) {
      return { governor: this.self, granted: true, code: 'granted', reason: 'already holds a permit' };
    }
    // Never `wait` here: decidable() said the head can be answered, and nothing changed since.
    const refused = this.refusal(request, now);
    if (refused && refused !== 'wait') return { governor: this.self, granted: false, ...refused };
    state.active.push(request.workflowId);
    state.granted.push(now);
    state.attempts[request.targetKey] = [...(state.attempts[request.targetKey] ?? []), now];
    if (request.limits.attemptsWindowMs !== undefined) {
      state.attemptWindows = {
        ...state.attemptWindows,
        [request.targetKey]: request.limits.attemptsWindowMs,
      };
    }
    const grant = {
      atMs: now,
      targetKey: request.targetKey,
      ...(request.runId ? { runId: request.runId } : {}),
    };
    state.grants = { ...state.grants, [request.workflowId]: grant };
    return {
      governor: this.self,
      granted: true,
      code: 'granted',
      reason: `${state.active.length} active after this grant`,
    };
  }

  /** Why the request is refused now; `wait` when that depends on grants still held. */
  private refusal(request: PermitRequest, now: number): Refusal | 'wait' | undefined {
    const state = this.state;
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
      if (this.rules.settleHeldGrants && lastHour - this.heldGrantsSince(now - hourMs) < maxPerHour)
        return 'wait';
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
  private heldGrantsSince(sinceMs: number): number {
    const state = this.state;
    return Object.entries(state.grants ?? {}).filter(
      ([id, grant]) => state.active.includes(id) && grant.atMs > sinceMs,
    ).length;
  }

  /** Takes back one grant: its time leaves the hourly count and the target's attempts. */
  private refund(grant: { atMs: number; targetKey: string }): void {
    const withoutOne = (times: number[]) => {
      const index = times.lastIndexOf(grant.atMs);
      return index < 0 ? times : [...times.slice(0, index), ...times.slice(index + 1)];
    };
    this.state.granted = withoutOne(this.state.granted);
    const attempts = withoutOne(this.state.attempts[grant.targetKey] ?? []);
    if (attempts.length > 0) this.state.attempts[grant.targetKey] = attempts;
    else delete this.state.attempts[grant.targetKey];
  }
}

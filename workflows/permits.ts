/**
 * The remediation run's side of the governor protocol: ask each governor in turn, wait for an
 * answer that does not come at once (a signal back), and release every permit held when the run
 * ends. Runs since `permits-by-update` ask through one activity (an update per governor, answered
 * in the governor's workflow task) and release all governors at once; older runs replay the
 * signal-per-governor shape.
 */
import {
  condition,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { GovernorScope, PermitProgress, PermitsInput } from '../activities/governors.ts';
import { policyLabel } from '../domain/run.ts';
import {
  globalGovernorId,
  namespaceGovernorId,
  policyGovernorId,
  type Governor,
  leaseCheckSignal,
  type PermitAnswer,
  permitSignal,
  releasePermitSignal,
  requestPermitSignal,
} from '../domain/governor.ts';

export class Permits {
  private readonly answers = new Map<string, PermitAnswer>();
  private readonly held: string[] = [];
  /** A governor asked whose answer has not come: the run may be cancelled while it waits there. */
  private waitingOn: string | undefined;
  /**
   * Asked by update: every governor the run asked (or, while its first ask has not answered, may
   * have asked), released at once at the end.
   */
  private asked: string[] | undefined;

  constructor() {
    setHandler(permitSignal, (answer) => void this.answers.set(answer.governor, answer));
    // The governor's lease check needs only to reach an open run; there is nothing to answer.
    setHandler(leaseCheckSignal, () => undefined);
  }

  /** Asks the governors in order; returns the first refusal, or undefined when all granted. */
  async acquire(governors: Governor[], targetKey: string): Promise<PermitAnswer | undefined> {
    const workflowId = workflowInfo().workflowId;
    for (const governor of governors) {
      await getExternalWorkflowHandle(governor.id).signal(requestPermitSignal, {
        workflowId,
        runId: workflowInfo().runId,
        targetKey,
        limits: governor.limits,
      });
      const answer = await this.answerOf(governor.id);
      if (!answer.granted) return answer;
      this.held.push(governor.id);
    }
    return undefined;
  }

  /**
   * The cheaper shape: `ask` (the requestPermits activity) asks the governors in order until one
   * does not grant at once; a queued request's answer then comes by signal, and the asking goes on
   * from that governor.
   * Returns the first refusal, or undefined when all granted.
   */
  async acquireByUpdate(
    ask: (input: PermitsInput) => Promise<PermitProgress>,
    input: Omit<PermitsInput, 'workflowId' | 'runId' | 'governors'>,
  ): Promise<PermitAnswer | undefined> {
    this.asked = everyGovernorOf(input.scope);
    const { workflowId, runId } = workflowInfo();
    let governors: Governor[] | undefined;
    for (;;) {
      const progress = await ask({ ...input, workflowId, runId, governors });
      // The first ask names every governor of the scope; a later one only those still to ask.
      if (governors === undefined) this.asked = progress.governors.map((g) => g.id);
      if (progress.refused) return progress.refused;
      if (progress.queued === undefined) return undefined;
      const answer = await this.answerOf(progress.queued);
      if (!answer.granted) return answer;
      // Anyone who can signal the run could have sent that grant: the next ask starts at the same
      // governor, which answers "already holds a permit" for a real one and queues it again
      // (still waiting) for a forged one.
      this.answers.delete(progress.queued);
      governors = progress.governors.slice(progress.governors.findIndex((g) => g.id === progress.queued));
    }
  }

  /** Waits for a governor's answer by signal; the run may be cancelled meanwhile (releaseAll withdraws it). */
  private async answerOf(governor: string): Promise<PermitAnswer> {
    this.waitingOn = governor;
    await condition(() => this.answers.has(governor));
    this.waitingOn = undefined;
    return this.answers.get(governor)!;
  }

  /**
   * `unused`: the run never acted, so each governor gives the grant back (see governor.ts).
   * A request still queued is withdrawn too, or the governor would grant it later to a run that
   * no longer listens (runs recorded before that replay without it).
   */
  async releaseAll(unused: boolean): Promise<void> {
    const workflowId = workflowInfo().workflowId;
    const release = (id: string) =>
      getExternalWorkflowHandle(id).signal(releasePermitSignal, { workflowId, unused });
    if (this.asked !== undefined) {
      // Not awaited: Temporal delivers a signal once its command is recorded, even after the run
      // has closed, so the run goes on at once. A governor holding nothing for the run ignores
      // it; one that does not exist (no per-namespace limit) fails it, which changes nothing.
      for (const id of this.asked.splice(0)) void release(id).catch(() => undefined);
      return;
    }
    const withdrawn =
      this.waitingOn !== undefined && patched('withdraw-queued-requests') ? [this.waitingOn] : [];
    this.waitingOn = undefined;
    for (const id of [...this.held.splice(0), ...withdrawn]) await release(id);
  }
}

/** Every governor a run of this scope may ask: its policy's, its namespace's (if one is limited), the cluster's. */
function everyGovernorOf(scope: GovernorScope): string[] {
  return [
    policyGovernorId(scope.cluster, policyLabel(scope.policy)),
    ...(scope.namespace !== undefined ? [namespaceGovernorId(scope.cluster, scope.namespace)] : []),
    globalGovernorId(scope.cluster),
  ];
}

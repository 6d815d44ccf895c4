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
import type { PermitProgress, PermitsInput } from '../activities/governors.ts';
import {
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
  /** Asked by update: the governors are released at once, not one workflow task each. */
  private byUpdate = false;

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
   * does not grant at once; a queued request's answer then comes by signal, and the rest are asked.
   * Returns the first refusal, or undefined when all granted.
   */
  async acquireByUpdate(
    ask: (input: PermitsInput) => Promise<PermitProgress>,
    input: Omit<PermitsInput, 'workflowId' | 'runId' | 'governors'>,
  ): Promise<PermitAnswer | undefined> {
    this.byUpdate = true;
    const { workflowId, runId } = workflowInfo();
    let governors: Governor[] | undefined;
    for (;;) {
      const progress = await ask({ ...input, workflowId, runId, governors });
      this.held.push(...progress.granted);
      if (progress.refused) return progress.refused;
      if (progress.queued === undefined) return undefined;
      const answer = await this.answerOf(progress.queued);
      if (!answer.granted) return answer;
      this.held.push(progress.queued);
      governors = progress.governors.slice(progress.governors.findIndex((g) => g.id === progress.queued) + 1);
      if (governors.length === 0) return undefined;
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
    const withdrawn =
      this.waitingOn !== undefined && patched('withdraw-queued-requests') ? [this.waitingOn] : [];
    this.waitingOn = undefined;
    const release = (id: string) =>
      getExternalWorkflowHandle(id).signal(releasePermitSignal, { workflowId, unused });
    const governors = [...this.held.splice(0), ...withdrawn];
    if (this.byUpdate) await Promise.all(governors.map(release));
    else for (const id of governors) await release(id);
  }
}

/**
 * The remediation run's side of the governor protocol: ask each governor in turn, wait for its
 * answer (a signal back), and release every permit held when the run ends.
 */
import {
  condition,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
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
      this.waitingOn = governor.id;
      await condition(() => this.answers.has(governor.id));
      this.waitingOn = undefined;
      const answer = this.answers.get(governor.id)!;
      if (!answer.granted) return answer;
      this.held.push(governor.id);
    }
    return undefined;
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
    for (const id of [...this.held.splice(0), ...withdrawn]) {
      await getExternalWorkflowHandle(id).signal(releasePermitSignal, { workflowId, unused });
    }
  }
}

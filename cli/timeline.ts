/**
 * Why a run did or skipped what it did, told from its event history: the trigger, the approval,
 * each governor's permit, the backup, the action, the verification, the rollback and the
 * cooldown, in the order they happened. Pure: it reads decoded events (see history.ts).
 */
import type { Backup, ExecuteResult, RollbackResult } from '../domain/actions.ts';
import type { PermitAnswer } from '../domain/governor.ts';
import type {
  ApprovalDecision,
  MessageInput,
  RemediationInput,
  RemediationResult,
  Verdict,
} from '../domain/run.ts';
import { policyLabel, targetDisplay } from '../domain/run.ts';
import { describeReadings } from '../domain/conditions/compare.ts';
import type { Governor } from '../domain/governor.ts';
import { fieldList } from './describe-run.ts';
import { type RunEvent, seconds } from './history.ts';
import { brief } from './output.ts';

export interface TimelineEntry {
  time: string;
  /** A short tag: trigger, approval, permit, backup, execute, verify, rollback, revert, cancel, cooldown, outcome… */
  what: string;
  text: string;
}

export interface Explanation {
  outcome?: string;
  reason?: string;
  timeline: TimelineEntry[];
}

export function explain(events: RunEvent[]): Explanation {
  const timeline: TimelineEntry[] = [];
  const add = (event: RunEvent, what: string, text: string) =>
    timeline.push({ time: event.time, what, text });
  let phase = 'Pending';
  let approvalTimeout: string | undefined;
  let explanation: Pick<Explanation, 'outcome' | 'reason'> = {};

  for (const event of events) {
    switch (event.type) {
      case 'WorkflowExecutionStarted': {
        const input = event.data as RemediationInput | undefined;
        if (!input?.spec) break;
        approvalTimeout = input.spec.approval?.required ? input.spec.approval.timeout : undefined;
        const actions = input.spec.actions.map((a) => a.type).join(' → ');
        add(
          event,
          'trigger',
          `policy ${policyLabel(input.policy)} fired for ${targetDisplay(input.target)} ` +
            `(${describeReadings(input.trigger.readings) || 'started by hand'}, observed ${input.trigger.observedAt}); ` +
            `actions: ${actions}${input.spec.dryRun ? ' (dry run: nothing will be changed)' : ''}`,
        );
        break;
      }
      case 'UpsertWorkflowSearchAttributes': {
        const next = (event.data as Record<string, unknown>).KubeMedicPhase;
        if (typeof next !== 'string') break;
        phase = next;
        if (phase === 'AwaitingApproval') {
          add(
            event,
            'approval',
            `waiting for a person to approve or reject (deadline ${approvalTimeout ?? '?'})`,
          );
        }
        break;
      }
      case 'WorkflowExecutionUpdateCompleted': {
        const decision = event.data as ApprovalDecision | undefined;
        if (decision?.decision) add(event, 'approval', decided(decision));
        break;
      }
      case 'WorkflowExecutionSignaled':
        signaled(event, phase);
        break;
      case 'TimerStarted':
        timer(event, phase);
        break;
      case 'ActivityTaskScheduled':
        if (event.name === 'recordOutcome') {
          const recorded = event.data as { outcome: string; reason: string };
          explanation = { outcome: recorded.outcome, reason: recorded.reason };
          add(event, 'outcome', `${recorded.outcome}: ${recorded.reason}`);
        }
        break;
      case 'ActivityTaskCompleted':
        completed(event);
        break;
      case 'ActivityTaskFailed':
      case 'ActivityTaskTimedOut':
        add(
          event,
          'refused',
          `${event.name} failed: ${event.failure?.type ? `${event.failure.type}: ` : ''}${event.failure?.message}`,
        );
        break;
      case 'WorkflowExecutionCompleted': {
        const result = event.data as RemediationResult | undefined;
        if (result?.approval?.via === 'timeout') add(event, 'approval', decided(result.approval));
        if (result?.outcome) explanation = { outcome: result.outcome, reason: result.reason };
        add(event, 'end', `the run ended ${result?.outcome ?? ''}`.trim());
        break;
      }
      case 'WorkflowExecutionFailed':
        add(event, 'end', `the workflow failed: ${event.failure?.message}`);
        break;
      case 'WorkflowExecutionTerminated':
        add(event, 'end', event.details);
        break;
    }
  }
  return { ...explanation, timeline };

  function signaled(event: RunEvent, phase: string) {
    const message = (event.data ?? {}) as MessageInput;
    const who = `${message.by ?? 'unknown'}${message.reason ? ` (${message.reason})` : ''}`;
    if (event.name === 'permit') {
      const answer = event.data as PermitAnswer;
      add(
        event,
        'permit',
        answer.granted
          ? `permit granted by ${answer.governor}: ${answer.reason}`
          : `permit REFUSED by ${answer.governor}: ${answer.code}: ${answer.reason}`,
      );
    } else if (event.name === 'cancel') {
      add(event, 'cancel', `cancel requested by ${who}: whatever was changed is rolled back`);
    } else if (event.name === 'approve' || event.name === 'reject') {
      const counted = phase === 'AwaitingApproval';
      add(
        event,
        'approval',
        `${event.name} signal from ${who}${counted ? '' : ' (ignored: not awaiting approval)'}`,
      );
    }
  }

  function timer(event: RunEvent, phase: string) {
    const duration = seconds(event.data as number);
    const meaning: Record<string, [string, string]> = {
      AwaitingApproval: ['approval', `approval deadline set: ${duration}`],
      Verifying: ['verify', `waiting ${duration} for the target to settle before verifying`],
      Reverting: ['revert', `temporary action: reverting in ${duration}`],
      CoolingDown: [
        'cooldown',
        `cooling down for ${duration}: new triggers for this target and policy are absorbed by this run`,
      ],
      NeedsAttention: [
        'attention',
        `left to a person: no automatic action on this target; this run holds its workflow ID ${duration} more, ` +
          'so new triggers join it instead of acting (terminate it to let KubeMedic act sooner)',
      ],
    };
    const [what, text] = meaning[phase] ?? ['timer', `waiting ${duration}`];
    add(event, what, text);
  }

  function completed(event: RunEvent) {
    switch (event.name) {
      case 'ensureGovernors': {
        const governors = event.data as Governor[];
        add(
          event,
          'permit',
          `asking the safety governors for a permit: ${governors.map((g) => g.id).join(', ')}`,
        );
        break;
      }
      case 'backupTarget': {
        const backup = event.data as Backup;
        add(
          event,
          'backup',
          `backed up ${backup.object.kind} ${[backup.object.namespace, backup.object.name].filter(Boolean).join('/')}: ` +
            `${fieldList(backup.fields)} (sha256 ${backup.hash})`,
        );
        break;
      }
      case 'executeAction': {
        const executed = event.data as ExecuteResult;
        const changes = executed.changes
          .map((c) => `${c.path} ${brief(c.before)} → ${brief(c.after)}`)
          .join(', ');
        add(event, 'execute', `${executed.summary}${changes ? ` [${changes}]` : ''}`);
        break;
      }
      case 'verifyTarget': {
        const verdict = event.data as Verdict;
        add(event, 'verify', `${verdict.healthy ? 'healthy' : 'NOT healthy'}: ${verdict.reason}`);
        break;
      }
      case 'rollbackAction':
      case 'revertPartly': {
        const undone = event.data as RollbackResult;
        const what = event.name === 'rollbackAction' && phase === 'Reverting' ? 'revert' : 'rollback';
        add(event, event.name === 'revertPartly' ? 'revert' : what, `${undone.outcome}: ${undone.reason}`);
        break;
      }
    }
  }
}

function decided(decision: ApprovalDecision): string {
  return `${decision.decision} by ${decision.by} via ${decision.via}${decision.reason ? `: ${decision.reason}` : ''}`;
}

/**
 * Why a run did or skipped what it did, told from its event history: the trigger, the approval,
 * each governor's permit, the backup, the action, the verification, the rollback and the
 * cooldown, in the order they happened. The run's status (StepRecord) holds the same steps but
 * not when each happened, nor the permits, messages and timers between them, so the timeline is
 * read from the history, through the workflow's own types (run-events.ts). Pure: it reads
 * decoded events (see history.ts).
 */
import { type PermitAnswer, permitSignal } from '../domain/governor.ts';
import { approveSignal, cancelSignal, rejectSignal } from '../domain/messages.ts';
import type {
  ApprovalDecision,
  MessageInput,
  Phase,
  RemediationResult,
  RemediationWorkflow,
} from '../domain/run.ts';
import { policyLabel, targetDisplay } from '../domain/run.ts';
import { searchAttributes } from '../domain/search-attributes.ts';
import { describeReadings } from '../domain/conditions/compare.ts';
import { fieldList } from './describe-run.ts';
import { evidenceSummary } from '../domain/evidence.ts';
import { type RunEvent, seconds } from './history.ts';
import { brief } from './output.ts';
import { readInput, readResult, type ResultReaders, signalArgument } from './run-events.ts';

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
  let phase: Phase = 'Pending';
  let approvalTimeout: string | undefined;
  let explanation: Pick<Explanation, 'outcome' | 'reason'> = {};

  for (const event of events) {
    switch (event.type) {
      case 'WorkflowExecutionStarted': {
        const input = event.data as Parameters<RemediationWorkflow>[0] | undefined;
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
        const next = (event.data as Record<string, unknown>)[searchAttributes.phase.name];
        if (typeof next !== 'string') break;
        phase = next as Phase;
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
        readInput(event, {
          recordOutcome: ({ outcome, reason }) => {
            explanation = { outcome, reason };
            add(event, 'outcome', `${outcome}: ${reason}`);
          },
        });
        break;
      case 'ActivityTaskCompleted':
        readResult(event, completed(event));
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

  function signaled(event: RunEvent, phase: Phase) {
    const message: MessageInput =
      signalArgument(event, cancelSignal) ??
      signalArgument(event, approveSignal) ??
      signalArgument(event, rejectSignal) ??
      {};
    const who = `${message.by ?? 'unknown'}${message.reason ? ` (${message.reason})` : ''}`;
    const answer = signalArgument(event, permitSignal);
    if (answer) {
      add(event, 'permit', permitText(answer));
    } else if (event.name === cancelSignal.name) {
      add(event, 'cancel', `cancel requested by ${who}: whatever was changed is rolled back`);
    } else if (event.name === approveSignal.name || event.name === rejectSignal.name) {
      const counted = phase === 'AwaitingApproval';
      add(
        event,
        'approval',
        `${event.name} signal from ${who}${counted ? '' : ' (ignored: not awaiting approval)'}`,
      );
    }
  }

  function timer(event: RunEvent, phase: Phase) {
    const duration = seconds(event.data as number);
    const meaning: Partial<Record<Phase, [string, string]>> = {
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

  /** What each activity's result tells, typed as the activity returns it. */
  function completed(event: RunEvent): ResultReaders {
    const undone = (what: string) => (result: { outcome: string; reason: string }) =>
      add(event, what, `${result.outcome}: ${result.reason}`);
    return {
      ensureGovernors: (governors) =>
        add(
          event,
          'permit',
          `asking the safety governors for a permit: ${governors.map((g) => g.id).join(', ')}`,
        ),
      // Answers that came at once; a queued request's answer follows as a permit signal.
      requestPermits: ({ granted, refused, queued }) => {
        if (granted.length > 0) add(event, 'permit', `permit granted by ${granted.join(', ')}`);
        if (refused) add(event, 'permit', permitText(refused));
        if (queued)
          add(event, 'permit', `waiting in ${queued}'s queue for a permit (its limits are reached)`);
      },
      backupTarget: (backup) =>
        add(
          event,
          'backup',
          `backed up ${backup.object.kind} ${[backup.object.namespace, backup.object.name].filter(Boolean).join('/')}: ` +
            `${fieldList(backup.fields)} (sha256 ${backup.hash})` +
            (backup.evidence
              ? `; evidence kept of the pods it removes: ${evidenceSummary(backup.evidence).join('; ')} (kubemedic show prints their logs)`
              : ''),
        ),
      executeAction: (executed) => {
        const changes = executed.changes
          .map((c) => `${c.path} ${brief(c.before)} → ${brief(c.after)}`)
          .join(', ');
        add(event, 'execute', `${executed.summary}${changes ? ` [${changes}]` : ''}`);
      },
      verifyTarget: (verdict) =>
        add(event, 'verify', `${verdict.healthy ? 'healthy' : 'NOT healthy'}: ${verdict.reason}`),
      // The same rollback activity undoes a failed step and ends a temporary action.
      rollbackAction: undone(phase === 'Reverting' ? 'revert' : 'rollback'),
      revertPartly: undone('revert'),
    };
  }
}

function permitText(answer: PermitAnswer): string {
  return answer.granted
    ? `permit granted by ${answer.governor}: ${answer.reason}`
    : `permit REFUSED by ${answer.governor}: ${answer.code}: ${answer.reason}`;
}

function decided(decision: ApprovalDecision): string {
  return `${decision.decision} by ${decision.by} via ${decision.channel ?? decision.via}${decision.reason ? `: ${decision.reason}` : ''}`;
}

/**
 * One remediation of one target for one policy: gate → backup → execute → verify → (rollback
 * and escalate) → optional timed revert → cool down. Every effect is an activity; this file is
 * deterministic (no I/O, clocks or randomness) and its history is the audit trail.
 */
import {
  ApplicationFailure,
  CancellationScope,
  ActivityFailure,
  condition,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  log,
  patched,
} from '@temporalio/workflow';
import type { Action } from '../api/policy.ts';
import type { RemediationActivities } from '../activities/index.ts';
import {
  type ExecuteResult,
  isRefusal,
  refusalTypes,
  skippingRefusalTypes,
  stepFailedType,
} from '../domain/actions.ts';
import { parseDuration } from '../domain/duration.ts';
import { declarationOf } from '../domain/action-catalogue.ts';
import {
  approveSignal,
  approveUpdate,
  cancelSignal,
  cancelUpdate,
  rejectSignal,
  rejectUpdate,
  statusQuery,
} from '../domain/messages.ts';
import { Permits } from './permits.ts';
import { runDetails } from './run-details.ts';
import { Reporting } from './reporting.ts';
import { failedReading, verificationWindow, verifyOverWindow } from './verification.ts';
import { searchAttributes } from '../domain/search-attributes.ts';
import {
  type ActivePhase,
  approveCommand,
  type ApprovalDecision,
  type MessageInput,
  type Outcome,
  type RemediationInput,
  type RemediationResult,
  type RemediationStatus,
  type StepRecord,
  type Verdict,
  executedAsLeft,
  policyLabel,
  targetDisplay,
  unauthenticatedSignal,
  unauthenticatedUpdate,
} from '../domain/run.ts';
import { waitFor, workflowTime } from './workflow-time.ts';

const retry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 10,
  nonRetryableErrorTypes: [...refusalTypes],
};
const quickTimeouts = { startToCloseTimeout: '30 seconds' };
const patientTimeouts = { startToCloseTimeout: '1 hour', heartbeatTimeout: '20 seconds' };

const activities = proxyActivities<RemediationActivities>({ ...quickTimeouts, retry });
/**
 * Asking the governors is retried for as long as Temporal may be unreachable: the update ID makes
 * a retry an answer, not a second grant.
 */
const permitOptions = {
  ...quickTimeouts,
  scheduleToCloseTimeout: '10 minutes',
  retry: { ...retry, maximumAttempts: undefined },
  summary: 'ask the safety governors for a permit',
};
/** A reading is retried briefly: the window's next reading is the better retry. */
const readingOptions = { ...quickTimeouts, retry: { ...retry, maximumAttempts: 3 } };
/** The outcome must reach the policy status even through an API server outage of many minutes. */
const recordOptions = {
  ...quickTimeouts,
  scheduleToCloseTimeout: '1 hour',
  // No attempt limit: the schedule-to-close timeout bounds it.
  retry: { ...retry, maximumAttempts: undefined },
  summary: 'record the outcome',
};

/** Options for one action's activity, with the one-line summary the Web UI shows for it. */
function optionsFor(action: Action, summary: string) {
  // Long-running actions (a drain, a Job) wait for the cluster; they heartbeat so a dead worker is noticed quickly.
  const timeouts = declarationOf(action.type).longRunning ? patientTimeouts : quickTimeouts;
  // A rung's own timeout bounds all its attempts; past it the step has failed (see executeStep).
  const rung = action.timeout ? { scheduleToCloseTimeout: parseDuration(action.timeout) } : {};
  return { ...timeouts, ...rung, retry, summary };
}

class Ended extends Error {
  constructor(
    readonly outcome: Outcome,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export async function remediation(input: RemediationInput): Promise<RemediationResult> {
  const { spec, target, policy } = input;
  const status: RemediationStatus = { phase: 'Pending', target, policy, dryRun: spec.dryRun, steps: [] };
  const where = targetDisplay(target);
  const readingWindow = verificationWindow(spec.verification);

  const setPhase = (phase: ActivePhase | Outcome) => {
    status.phase = phase;
    upsertSearchAttributes([{ key: searchAttributes.phase, value: phase }]);
    setCurrentDetails(runDetails(status));
  };
  // Events at each phase, notifications and NeedsAttention came after the first histories
  // were recorded: those runs replay without them.
  const reporting = patched('notifications') ? new Reporting(input) : undefined;
  /** Enters a phase a person should hear of: an Event on the policy and the target says why. */
  const enter = (phase: Parameters<Reporting['phase']>[0], why: string) => {
    setPhase(phase);
    reporting?.phase(phase, Math.max(status.steps.length - 1, 0), why);
  };
  /**
   * Whether the run's policy is the one on the API server (its first step, checkPolicy): false
   * until that passes, and the exit then writes nothing for it. Undefined in runs recorded before.
   */
  let policyChecked: boolean | undefined;
  /** needs-attention: when the target's attempts window frees up (workflow time, ms). */
  let needsAttentionUntil: number | undefined;
  // The starter sets the static search attributes (cluster, policy, target); the run keeps phase and action current.

  // Messages. A decision counts only while the run awaits approval; a later one is ignored by
  // the signals and refused by the updates' validators.
  const decide = (
    decision: ApprovalDecision['decision'],
    via: 'signal' | 'update',
    message?: MessageInput,
  ) => {
    // A signal's channel is always "unauthenticated", whatever it claims: only an update carries
    // the watcher's word that the API server admitted the decision.
    const channel = via === 'signal' ? unauthenticatedSignal : (message?.channel ?? unauthenticatedUpdate);
    status.approval = { decision, via, by: message?.by ?? 'unknown', reason: message?.reason ?? '', channel };
    return status.approval;
  };
  const awaitingApproval = (_message?: MessageInput) => {
    if (status.phase !== 'AwaitingApproval' || status.approval !== undefined) {
      throw new Error(`the run is not awaiting approval (phase ${status.phase})`);
    }
  };
  setHandler(
    approveSignal,
    (m) => void (status.phase === 'AwaitingApproval' && !status.approval && decide('approved', 'signal', m)),
  );
  setHandler(
    rejectSignal,
    (m) => void (status.phase === 'AwaitingApproval' && !status.approval && decide('rejected', 'signal', m)),
  );
  setHandler(approveUpdate, (m) => decide('approved', 'update', m), { validator: awaitingApproval });
  setHandler(rejectUpdate, (m) => decide('rejected', 'update', m), { validator: awaitingApproval });
  setHandler(statusQuery, () => status);

  const permits = new Permits();
  const work = new CancellationScope();
  let cancelledBy: MessageInput | undefined;
  setHandler(cancelSignal, (m) => {
    // A signal's claimed channel is dropped: only the update path names one (see decide).
    cancelledBy = { by: m?.by, reason: m?.reason };
    work.cancel();
  });
  // The same cancel with an answer; refused once the run has an outcome or was cancelled already.
  setHandler(
    cancelUpdate,
    (m) => {
      const phase = status.phase;
      const channel = m.channel ?? unauthenticatedUpdate;
      cancelledBy = { ...m, channel };
      work.cancel();
      return { cancelled: true as const, by: m.by ?? 'unknown', channel, phase };
    },
    {
      validator: (_message: MessageInput) => {
        if (status.outcome !== undefined) throw new Error(`the run has already ended (${status.outcome})`);
        if (cancelledBy !== undefined)
          throw new Error(`the run is already cancelled by ${cancelledBy.by ?? 'unknown'}`);
      },
    },
  );

  let outcome: Outcome;
  let reason: string;
  try {
    ({ outcome, reason } = await work.run(() => remediate()));
  } catch (error) {
    ({ outcome, reason } = await endingFor(error));
  }

  // A run that took no step (a later governor refused it, or it was cancelled first) never acted.
  await exitStep('release the permits', () => permits.releaseAll(status.steps.length === 0));
  status.outcome = outcome;
  status.reason = reason;
  setPhase(outcome);
  await exitStep('record the outcome', () =>
    activities.recordOutcome.executeWithOptions(recordOptions, [
      {
        policy,
        target,
        workflowId: workflowInfo().workflowId,
        outcome,
        reason,
        action: spec.actions[0]?.type,
        changes: spec.dryRun ? status.steps.at(-1)?.executed?.changes : undefined,
        startedAt: workflowInfo().startTime.toISOString(),
        policyChecked,
      },
    ]),
  );
  if (policyChecked !== false) reporting?.notifyOutcome(status);
  if (needsAttentionUntil !== undefined) {
    // No automatic action on this target until its attempts window frees up: the run keeps its
    // workflow ID (and phase NeedsAttention) that long, so new triggers are absorbed by
    // USE_EXISTING and people are told once per window, not once per cooldown.
    const until = needsAttentionUntil;
    await CancellationScope.nonCancellable(async () => {
      await waitFor(parseDuration(spec.cooldown));
      if (until > workflowTime()) await sleep(until - workflowTime());
    });
  } else if (
    // Every outcome cools down since the governor: a refused or rejected trigger must not come
    // straight back as a new run. Older runs replay with the old rule.
    patched('cool-down-after-every-outcome') ||
    (outcome !== 'Skipped' && outcome !== 'Rejected')
  ) {
    // The run keeps its workflow ID through the cooldown, so new triggers for this target and
    // policy are absorbed by USE_EXISTING instead of starting another remediation.
    status.phase = 'CoolingDown';
    upsertSearchAttributes([{ key: searchAttributes.phase, value: 'CoolingDown' }]);
    await CancellationScope.nonCancellable(() => waitFor(parseDuration(spec.cooldown)));
    setPhase(outcome);
  }
  await CancellationScope.nonCancellable(async () => reporting?.settled());
  return { ...status, outcome, reason };

  async function remediate(): Promise<{ outcome: Outcome; reason: string }> {
    // Added after the first histories were recorded: older runs replay without it.
    if (patched('policy-checked')) {
      // Anyone who can start a workflow writes its input: until the API server vouches for the
      // policy, the run writes nothing (a refusal ends it Skipped, with the reason).
      policyChecked = false;
      await skipWhenGone(() =>
        activities.checkPolicy.executeWithOptions(
          { ...quickTimeouts, retry, summary: `check ${policy.kind} ${policyLabel(policy)}` },
          [{ policy, target }],
        ),
      );
      policyChecked = true;
    }
    await gate();
    // Added after the first histories were recorded: older runs replay without asking.
    if (patched('safety-governor')) {
      const scope = {
        cluster: input.cluster,
        policy,
        limits: spec.limits,
        namespace: target.namespace,
        action: spec.actions[0]?.type,
      };
      // Runs recorded before it replay asking each governor by signal.
      const refused = patched('permits-by-update')
        ? await permits.acquireByUpdate(
            (ask) => activities.requestPermits.executeWithOptions(permitOptions, [ask]),
            { scope, targetKey: targetDisplay(target) },
          )
        : await permits.acquire(await activities.ensureGovernors(scope), targetDisplay(target));
      if (refused && reporting && refused.code === 'needs-attention' && refused.untilMs !== undefined) {
        needsAttentionUntil = refused.untilMs;
        throw new Ended(
          'NeedsAttention',
          `${refused.code}: ${refused.reason}; no automatic action on this target until ${new Date(refused.untilMs).toISOString()}`,
        );
      }
      if (refused) throw new Ended('Skipped', `${refused.code}: ${refused.reason}`);
    }
    for (const [index, action] of spec.actions.entries()) {
      const step: StepRecord = { index, action: action.type };
      status.steps.push(step);
      upsertSearchAttributes([{ key: searchAttributes.action, value: action.type }]);
      const context = actionInput(action);

      enter(
        'BackingUp',
        index === 0
          ? `${policyLabel(policy)}: ${where} needs remediation; backing up what ${action.type} will change`
          : `${spec.actions[index - 1]!.type} did not help and was rolled back; escalating to ${action.type} (step ${index + 1} of ${spec.actions.length}): backing up what it will change`,
      );
      step.backup = await skipWhenGone(() =>
        activities.backupTarget.executeWithOptions(
          optionsFor(action, `back up ${where} for ${action.type}`),
          [context],
        ),
      );
      enter(
        'Executing',
        `${spec.dryRun ? 'dry run (dryRun=All): ' : ''}${action.type} on ${where}; backup ${step.backup.hash.slice(0, 12)} taken`,
      );
      const executed = await skipWhenGone(() => executeStep(step, action, context));
      if (executed === undefined) {
        const undone = await undoCurrentStep('rollback', `${action.type} failed: ${step.failure}`);
        if (undone?.outcome === 'RollbackConflict') {
          return {
            outcome: 'Failed',
            reason: `${action.type} failed (${step.failure}); RollbackConflict: ${undone.reason}`,
          };
        }
        log.info('action failed; escalating', { action: action.type, reason: step.failure });
        continue;
      }
      step.executed = executed;
      if (spec.dryRun) {
        return { outcome: 'Succeeded', reason: `dry run: ${step.executed.summary}; nothing was changed` };
      }

      enter(
        'Verifying',
        `${step.executed.summary}; checking the conditions after a settle of ${spec.verification?.settle ?? '1m'}`,
      );
      await waitFor(parseDuration(spec.verification?.settle ?? '1m'));
      step.verdict = await verifyOverWindow(readingWindow, readOnce, waitFor);
      if (step.verdict.healthy) {
        if (spec.revertAfter) await revertLater();
        return { outcome: 'Succeeded', reason: `${step.executed.summary}; verified: ${step.verdict.reason}` };
      }

      if (step.verdict.inconclusive) {
        // No data is not a verdict on the action: undo it and let a person look, without escalating.
        const undone = await undoCurrentStep('rollback', `verification ${step.verdict.reason}`);
        return {
          outcome: 'Failed',
          reason: `verification ${step.verdict.reason}; rollback: ${undone?.outcome}: ${undone?.reason}`,
        };
      }
      const rollback = await undoCurrentStep('rollback', `verification failed: ${step.verdict.reason}`);
      if (rollback?.outcome === 'RollbackConflict') {
        return {
          outcome: 'Failed',
          reason: `verification failed (${step.verdict.reason}); RollbackConflict: ${rollback.reason}`,
        };
      }
      if (step.verdict.targetGone && rollback?.outcome === 'NothingToRestore') {
        // Deleted during the run: there is nothing left to verify, restore or escalate on.
        return { outcome: 'Skipped', reason: `TargetGone: ${rollback.reason}; the run stops here` };
      }
      log.info('action failed verification; escalating', {
        action: action.type,
        reason: step.verdict.reason,
      });
    }
    return ladderExhausted();
  }

  /**
   * Runs one rung's execute. A step that fails (its Job failed, its drain missed the deadline,
   * its retries ran out) is a failed step like a failed verification: undefined is returned,
   * `step.failure` says why and `step.executed` holds what it had written, if it said.
   */
  async function executeStep(step: StepRecord, action: Action, context: ReturnType<typeof actionInput>) {
    try {
      return await activities.executeAction.executeWithOptions(
        optionsFor(action, `${action.type} ${where}`),
        [{ ...context, backup: step.backup! }],
      );
    } catch (error) {
      const cause = error instanceof ActivityFailure ? error.cause : undefined;
      const refused = cause instanceof ApplicationFailure && isRefusal(cause.type);
      // Runs recorded before failed steps ended the workflow here; they replay so.
      if (!(error instanceof ActivityFailure) || refused || !patched('failed-steps')) throw error;
      step.failure = failureText(error);
      if (cause instanceof ApplicationFailure && cause.type === stepFailedType) {
        step.executed = cause.details?.[0] as ExecuteResult | undefined;
      }
      return undefined;
    }
  }

  /** The ladder ended without a rung that helped: each rung's failure, and whether all were undone. */
  function ladderExhausted(): { outcome: Outcome; reason: string } {
    const failures = status.steps.map(
      (step) => step.failure ?? `verification failed (${step.verdict?.reason ?? 'no verdict'})`,
    );
    if (status.steps.every((step) => step.failure === undefined)) {
      const last = status.steps.at(-1);
      // A rung that could not be undone (an evicted Pod, a target protected since) says so.
      const notUndone = status.steps
        .filter(
          (step) => step.rollback && !['RolledBack', 'NothingToRestore'].includes(step.rollback.outcome),
        )
        .map((step) => `${step.action}: ${step.rollback!.outcome}: ${step.rollback!.reason}`);
      return {
        outcome: 'RolledBack',
        reason:
          `every action failed verification (last: ${last?.verdict?.reason}); ` +
          (notUndone.length === 0
            ? 'each was rolled back'
            : `not every one could be undone (${notUndone.join('; ')})`),
      };
    }
    // A rung that failed without saying what it wrote cannot be known to be undone.
    const unknown = status.steps.filter((step) => step.failure !== undefined && step.executed === undefined);
    const told = status.steps.map((step, i) => `${step.action}: ${failures[i]}`).join('; ');
    return unknown.length === 0
      ? { outcome: 'RolledBack', reason: `no action helped (${told}); each was rolled back` }
      : {
          outcome: 'Failed',
          reason: `no action helped (${told}); ${unknown.map((step) => step.action).join(', ')} did not say what it had changed, so it was not rolled back: compare the target with its backup (kubemedic show)`,
        };
  }

  /**
   * The one exit's decision: how a run ends whatever stopped it. `Ended` carries its own outcome;
   * a cancel and any other failure (our own bug, a step's retries exhausted, an input the run
   * could not use) undo the current step first, in a scope that cannot itself be cancelled.
   */
  async function endingFor(error: unknown): Promise<{ outcome: Outcome; reason: string }> {
    if (error instanceof Ended) return error;
    if (isCancellation(error)) {
      // Only the cancel update names a channel; a signal's reason reads as it always did (replay).
      const via = cancelledBy?.channel ? ` via ${cancelledBy.channel}` : '';
      const by = `cancelled by ${cancelledBy?.by ?? 'a workflow cancellation'}${via}`;
      const undone = await undoForExit(by);
      return {
        outcome: 'Cancelled',
        reason: `${by}${cancelledBy?.reason ? ` (${cancelledBy.reason})` : ''}${undone}`,
      };
    }
    // Runs recorded before the one exit failed the workflow here, and replay so.
    if (!patched('one-exit')) throw error;
    const why = `${status.phase} failed: ${failureText(error)}`;
    log.error('the run failed; ending it with an outcome', {
      phase: status.phase,
      error: failureText(error),
    });
    return { outcome: 'Failed', reason: `${why}${await undoForExit(why)}` };
  }

  /** Undoes the current step on the way out and says how that went; never throws. */
  async function undoForExit(why: string): Promise<string> {
    try {
      const undone = await CancellationScope.nonCancellable(() => undoCurrentStep('rollback', why));
      return undone ? `; rollback: ${undone.outcome}: ${undone.reason}` : '; nothing had been changed';
    } catch (error) {
      if (!patched('one-exit')) throw error;
      const backup = status.steps.at(-1)?.backup?.hash.slice(0, 12);
      return `; the rollback failed too (${failureText(error)}): backup ${backup} holds what the target was`;
    }
  }

  /** One of the exit's own steps (release, record); a failure is logged, never the end of the run. */
  async function exitStep(what: string, run: () => Promise<unknown>): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      try {
        await run();
      } catch (error) {
        if (!patched('one-exit')) throw error;
        log.error(`could not ${what}`, { error: failureText(error) });
      }
    });
  }

  /** One verification reading; one that cannot be taken is a reading without data. */
  async function readOnce(): Promise<Verdict> {
    try {
      return await activities.verifyTarget.executeWithOptions(
        { ...readingOptions, summary: `verify ${where}` },
        [
          {
            policy,
            target,
            conditions: spec.verification?.conditions ?? spec.conditions,
            match: spec.match,
            onNoData: readingWindow.onNoData,
          },
        ],
      );
    } catch (error) {
      // Runs recorded before readings could fail ended here; they replay so.
      if (!(error instanceof ActivityFailure) || !patched('verification-window')) throw error;
      return failedReading(readingWindow, failureText(error));
    }
  }

  async function gate(): Promise<void> {
    if (!spec.approval?.required) return;
    enter(
      'AwaitingApproval',
      `${policyLabel(policy)} requires approval within ${spec.approval.timeout} (then ${spec.approval.onTimeout}); approve with: ${approveCommand(workflowInfo().workflowId, input.cluster)}`,
    );
    reporting?.notify(
      'AwaitingApproval',
      status,
      `${spec.actions.map((a) => a.type).join(' → ')} on ${where} awaits approval within ${spec.approval.timeout}; onTimeout is ${spec.approval.onTimeout}`,
    );
    const decided = await condition(
      () => status.approval !== undefined,
      parseDuration(spec.approval.timeout),
    );
    if (!decided) {
      const approve = spec.approval.onTimeout === 'Approve';
      status.approval = {
        decision: approve ? 'approved' : 'rejected',
        by: 'deadline',
        reason: `no decision within ${spec.approval.timeout}; onTimeout is ${spec.approval.onTimeout}`,
        via: 'timeout',
      };
    }
    if (status.approval?.decision === 'rejected') {
      throw new Ended(
        'Rejected',
        `rejected by ${status.approval.by}${status.approval.reason ? `: ${status.approval.reason}` : ''}`,
      );
    }
  }

  /**
   * Undoes the latest step if it changed anything: a `rollback` after failed verification or a
   * cancel, a `revert` when a temporary action's time is up. Runs at most once per step.
   */
  async function undoCurrentStep(kind: 'rollback' | 'revert', why: string) {
    const step = status.steps.at(-1);
    if (!step?.backup || !step.executed || spec.dryRun) return undefined;
    if (step.rollback || step.revert) return step.rollback ?? step.revert;
    const action = spec.actions[step.index]!;
    enter(
      kind === 'rollback' ? 'RollingBack' : 'Reverting',
      `${why}; restoring the fields ${action.type} changed on ${where}, unless someone changed them since`,
    );
    const executed = executedAsLeft(step.executed, step.revertedTo);
    const undone = await activities.rollbackAction.executeWithOptions(
      optionsFor(action, `${kind} ${action.type} on ${where}`),
      [{ ...actionInput(action), backup: step.backup, executed }],
    );
    step[kind] = undone;
    if (undone.outcome === 'RollbackConflict') reporting?.notify('RollbackConflict', status, undone.reason);
    return undone;
  }

  /**
   * A temporary action: a durable timer, then the same guarded restore as a rollback — at once,
   * or for Gradual in steps (numeric fields walk back; the last step restores everything).
   */
  async function revertLater(): Promise<void> {
    const { after, mode, steps, interval } = spec.revertAfter!;
    enter(
      'Reverting',
      `a temporary action: undoing it after ${after}${mode === 'Gradual' ? ` in ${steps} steps` : ''}`,
    );
    await waitFor(parseDuration(after));
    const step = status.steps.at(-1)!;
    const action = spec.actions[step.index]!;
    for (let i = 1; mode === 'Gradual' && i < steps; i++) {
      const partly = await activities.revertPartly.executeWithOptions(
        optionsFor(action, `revert ${action.type} on ${where}: step ${i} of ${steps}`),
        [
          {
            ...actionInput(action),
            backup: step.backup!,
            executed: step.executed!,
            current: executedAsLeft(step.executed!, step.revertedTo).written,
            fraction: i / steps,
          },
        ],
      );
      if (partly.outcome === 'RollbackConflict') {
        step.revert = partly;
        reporting?.notify('RollbackConflict', status, partly.reason);
        return;
      }
      step.revertedTo = partly.written;
      await waitFor(parseDuration(interval));
    }
    await undoCurrentStep('revert', `the temporary action's ${after} are over`);
  }

  function actionInput(action: Action) {
    // No ServiceAccount: the activities take it from the policy on the API server.
    return { target, action, dryRun: spec.dryRun, policy };
  }
}

/** A target that is gone ends the run as Skipped, with the reason. */
async function skipWhenGone<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const cause = error instanceof ActivityFailure ? error.cause : undefined;
    if (cause instanceof ApplicationFailure && isRefusal(cause.type)) {
      throw new Ended(
        skippingRefusalTypes.includes(cause.type) ? 'Skipped' : 'Failed',
        `${cause.type}: ${cause.message}`,
      );
    }
    throw error;
  }
}

/** A failure in words: the activity and its cause's message, not the SDK's wrapper text. */
function failureText(error: unknown): string {
  if (error instanceof ActivityFailure) {
    return `${error.activityType}: ${error.cause?.message ?? error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

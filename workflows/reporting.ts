/**
 * What a run tells people besides its history: Kubernetes Events as it enters each phase, and
 * notifications to the policy's sinks. Both are best effort and run beside the remediation:
 * each goes out as its own activity with a retry policy of its own, in a scope a cancel cannot
 * reach, and a failure after the retries is logged, never thrown. The run waits for them only
 * at its very end (`settled`), so a slow or dead sink never holds up an action or a rollback.
 */
import { CancellationScope, log, proxyActivities } from '@temporalio/workflow';
import type { NotificationEvent } from '../api/policy.ts';
import type { PhaseInput, RemediationActivities } from '../activities/index.ts';
import type { NotificationFacts, Outcome, RemediationInput, RemediationStatus } from '../domain/run.ts';
import { workflowTime } from './workflow-time.ts';

/** Backoff 1, 2, 4, 8, 16 s: a sink that is down for about half a minute still gets it. */
const notifications = proxyActivities<RemediationActivities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '16 seconds',
    maximumAttempts: 6,
    nonRetryableErrorTypes: ['NotificationRefused', 'SecretMissing', 'SecretUnreadable'],
  },
});
const events = proxyActivities<RemediationActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
});

/** The host of a sink's URL: its path may hold a token (Slack's do), which must not reach the Web UI. */
const hostOf = (url: string) => /^https?:\/\/([^/?#@]*@)?([^/?#]+)/.exec(url)?.[2] ?? 'sink';

/** The outcomes a sink hears of; Rejected and Cancelled were a person's own doing. */
const notifiedOutcomes: readonly Outcome[] = [
  'Succeeded',
  'Failed',
  'RolledBack',
  'Skipped',
  'NeedsAttention',
];

export class Reporting {
  private readonly pending: Promise<void>[] = [];

  constructor(private readonly input: RemediationInput) {}

  /** Events on the policy and the target: the run entered `phase` (of ladder rung `step`), and why. */
  phase(phase: PhaseInput['phase'], step: number, message: string): void {
    const { policy, target } = this.input;
    this.beside(`Event ${phase}`, () =>
      events.recordPhase.executeWithOptions({ summary: `Event ${phase}` }, [
        { policy, target, phase, step, message },
      ]),
    );
  }

  /** Tells every sink that wants `event`. */
  notify(event: NotificationEvent, status: RemediationStatus, reason: string): void {
    const { spec, cluster, policy, target } = this.input;
    const facts: NotificationFacts = {
      event,
      cluster,
      policy,
      target,
      action: status.steps.at(-1)?.action ?? spec.actions[0]?.type,
      phase: status.phase,
      outcome: status.outcome,
      reason,
      time: new Date(workflowTime()).toISOString(),
    };
    for (const sink of spec.notifications ?? []) {
      if (sink.events && !sink.events.includes(event)) continue;
      this.beside(`notify ${sink.type} of ${event}`, () =>
        notifications.notify.executeWithOptions(
          { summary: `notify ${sink.type} ${hostOf(sink.url)}: ${event}` },
          [{ sink, facts, serviceAccountName: spec.serviceAccountName }],
        ),
      );
    }
  }

  /** The outcome's notification, when it is one sinks hear of. */
  notifyOutcome(status: RemediationStatus & { outcome: Outcome; reason: string }): void {
    if (notifiedOutcomes.includes(status.outcome)) {
      this.notify(status.outcome as NotificationEvent, status, status.reason);
    }
  }

  /** Resolves when every Event and notification has been delivered or given up. */
  async settled(): Promise<void> {
    await Promise.all(this.pending);
  }

  private beside(what: string, send: () => Promise<unknown>): void {
    this.pending.push(
      CancellationScope.nonCancellable(send).then(
        () => undefined,
        (error: unknown) =>
          log.warn(`${what} failed after its retries; the run goes on`, { error: String(error) }),
      ),
    );
  }
}

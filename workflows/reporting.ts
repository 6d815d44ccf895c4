/**
 * What a run tells people besides its history: Kubernetes Events as it enters each phase, and
 * notifications to the policy's sinks. Both are best effort and run beside the remediation:
 * each goes out as its own activity with a retry policy of its own, in a scope a cancel cannot
 * reach, and a failure after the retries is logged, never thrown. The run waits for them only
 * at its very end (`settled`), so a slow or dead sink never holds up an action or a rollback.
 */
import { ActivityFailure, CancellationScope, log, patched, proxyActivities } from '@temporalio/workflow';
import type { NotificationEvent, NotificationSink } from '../api/policy.ts';
import type {
  DefaultSinkSummary,
  PhaseInput,
  RemediationActivities,
  SinkChoice,
} from '../activities/index.ts';
import type { NotificationFacts, Outcome, RemediationInput, RemediationStatus } from '../domain/run.ts';
import { workflowTime } from './workflow-time.ts';
import { evidenceSummary } from '../domain/evidence.ts';

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

/** How a sink is named in summaries, status and Events: its type and Secret's name, never a value. */
export function sinkLabel(choice: SinkChoice): string {
  if ('defaultSink' in choice) return `default sink ${choice.defaultSink}`;
  const { sink } = choice;
  const ref = sink.urlSecretRef ?? sink.routingKeySecretRef;
  return ref ? `${sink.type} (Secret ${ref.name})` : sink.type;
}

const wants = (sink: { events?: NotificationEvent[] }, event: NotificationEvent) =>
  !sink.events || sink.events.includes(event);

/** The outcomes a sink hears of; Rejected and Cancelled were a person's own doing. */
const notifiedOutcomes: readonly Outcome[] = [
  'Succeeded',
  'Failed',
  'RolledBack',
  'Skipped',
  'NeedsAttention',
];

/** The latest evidence the run kept before removing pods, summarised for a notification. */
function evidenceOf(status: RemediationStatus): Pick<NotificationFacts, 'evidence'> {
  const evidence = [...status.steps].reverse().find((step) => step.backup?.evidence)?.backup?.evidence;
  return evidence ? { evidence: evidenceSummary(evidence) } : {};
}

export class Reporting {
  private readonly pending: Promise<void>[] = [];
  /** Runs since sinks read their Secrets also hear default sinks and record failed deliveries. */
  private readonly sinksFromSecrets = patched('sinks-from-secrets');
  private defaultSinks?: Promise<DefaultSinkSummary[]>;
  /** The PagerDuty sinks that heard of this run, by label: each may hold an open alert of it. */
  private readonly pagerDutyHeard = new Map<string, { choice: SinkChoice; event: NotificationEvent }>();

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

  /** Tells every sink that wants `event`: the policy's own, then the cluster's default sinks. */
  notify(event: NotificationEvent, status: RemediationStatus, reason: string): void {
    const { spec } = this.input;
    const facts = this.factsFor(event, status, reason);
    for (const sink of spec.notifications ?? []) {
      if (wants(sink, event))
        this.beside(`notify ${sinkLabel({ sink })} of ${event}`, () =>
          this.send({ sink }, sink.type, facts, status),
        );
    }
    if (!this.sinksFromSecrets || spec.defaultNotifications === false) return;
    this.beside(`notify the default sinks of ${event}`, async () => {
      // Asked once per run: the list is in the history, so a replay sees the same sinks.
      this.defaultSinks ??= notifications.notificationDefaults();
      const sinks = (await this.defaultSinks).filter((sink) => wants(sink, event));
      await Promise.all(sinks.map((sink) => this.send({ defaultSink: sink.name }, sink.type, facts, status)));
    });
  }

  /** What a notification of `event` says, as the run knows it now. */
  private factsFor(event: NotificationEvent, status: RemediationStatus, reason: string): NotificationFacts {
    const { spec, cluster, policy, target } = this.input;
    return {
      event,
      cluster,
      policy,
      target,
      action: status.steps.at(-1)?.action ?? spec.actions[0]?.type,
      phase: status.phase,
      outcome: status.outcome,
      reason,
      time: new Date(workflowTime()).toISOString(),
      ...evidenceOf(status),
    };
  }

  /**
   * One delivery. Since sinks read their Secrets in the activity, a delivery given up is also
   * said where people look: the run's status and a Warning Event on the policy.
   */
  private async send(
    choice: SinkChoice,
    type: NotificationSink['type'],
    facts: NotificationFacts,
    status: RemediationStatus,
    resolve = false,
  ): Promise<void> {
    const sink = sinkLabel(choice);
    const { event } = facts;
    try {
      await notifications.notify.executeWithOptions(
        { summary: `${resolve ? 'resolve' : 'notify'} ${sink}: ${resolve ? facts.outcome : event}` },
        [{ ...choice, facts, serviceAccountName: this.input.spec.serviceAccountName, resolve }],
      );
      if (type === 'PagerDuty') this.pagerDutyHeard.set(sink, { choice, event });
    } catch (error) {
      if (!this.sinksFromSecrets) throw error;
      const reason = error instanceof ActivityFailure && error.cause ? error.cause.message : String(error);
      (status.notifications ??= []).push({ sink, event, delivered: false, reason });
      log.warn(`notify ${sink} of ${event} failed after its retries; the run goes on`, { reason });
      const { policy, target } = this.input;
      await events.recordNotificationFailed.executeWithOptions({ summary: `Event NotificationFailed` }, [
        { policy, target, sink, event, reason },
      ]);
      return;
    }
    if (this.sinksFromSecrets && !resolve)
      (status.notifications ??= []).push({ sink, event, delivered: true });
  }

  /**
   * The outcome's notification, when it is one sinks hear of. Given the run's own status (with
   * its outcome set), so the deliveries are recorded where the run's result is read.
   */
  notifyOutcome(status: RemediationStatus): void {
    const { outcome, reason } = status;
    if (outcome && notifiedOutcomes.includes(outcome)) {
      this.notify(outcome as NotificationEvent, status, reason ?? '');
    } else if (this.pagerDutyHeard.size > 0 && patched('pagerduty-resolve-on-decision')) {
      // Rejected or cancelled by a person: sinks are not told, but an alert this run opened
      // (AwaitingApproval pages) must not stay open once the run has ended.
      for (const [label, { choice, event }] of this.pagerDutyHeard) {
        const facts = { ...this.factsFor(event, status, reason ?? ''), outcome };
        this.beside(`resolve ${label}`, () => this.send(choice, 'PagerDuty', facts, status, true));
      }
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

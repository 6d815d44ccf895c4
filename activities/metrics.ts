/**
 * KubeMedic's own Prometheus metrics (prom-client), counted where outcomes are recorded so every
 * run is counted once. The worker serves this registry on its metrics port.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import type { RollbackResult } from '../domain/actions.ts';
import { type Outcome, outcomes } from '../domain/run.ts';

export const metricsRegistry = new Registry();

export const remediationsTotal = new Counter({
  name: 'kubemedic_remediations_total',
  help: 'Remediation runs that ended, by policy, first action and outcome.',
  labelNames: ['policy', 'action', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const skipsTotal = new Counter({
  name: 'kubemedic_remediation_skips_total',
  help: 'Runs that did not act, by policy and reason (rate-limited, paused, needs-attention, Protected, Quota, TargetGone, Rejected, ...).',
  labelNames: ['policy', 'reason'] as const,
  registers: [metricsRegistry],
});

/** The reason code of an outcome: the word before the first colon of its reason, or the outcome. */
export function skipReason(outcome: Outcome, reason: string): string {
  const code = /^([A-Za-z-]+):/.exec(reason)?.[1];
  return outcome === 'Rejected' ? 'Rejected' : (code ?? outcome);
}

export const notificationsTotal = new Counter({
  name: 'kubemedic_notifications_total',
  help: 'Notification deliveries attempted, by policy, event, sink type and result (delivered or failed; each retry counts).',
  labelNames: ['policy', 'event', 'type', 'result'] as const,
  registers: [metricsRegistry],
});

export const remediationDuration = new Histogram({
  name: 'kubemedic_remediation_duration_seconds',
  help: 'From the start of a run to its outcome (approval waits included, the cooldown after it not), by policy, first action and outcome.',
  labelNames: ['policy', 'action', 'outcome'] as const,
  buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600],
  registers: [metricsRegistry],
});

export const rollbacksTotal = new Counter({
  name: 'kubemedic_rollbacks_total',
  help: 'Rollbacks by policy, action and result: RolledBack, NothingToRestore (already as backed up) or RollbackConflict (a later change was kept).',
  labelNames: ['policy', 'action', 'result'] as const,
  registers: [metricsRegistry],
});

/**
 * Creates a policy's outcome series at zero when one of its runs starts, so that the first outcome
 * is an increase that rate() and increase() can see, not a series appearing at 1 (Prometheus's
 * advice: avoid missing metrics).
 */
export function initializeSeries(policy: string, action: string): void {
  for (const outcome of outcomes) {
    remediationsTotal.inc({ policy, action, outcome }, 0);
    remediationDuration.zero({ policy, action, outcome });
  }
}

export function countRollback(policy: string, action: string, result: RollbackResult['outcome']): void {
  rollbacksTotal.inc({ policy, action, result });
}

export function countOutcome(
  policy: string,
  action: string,
  outcome: Outcome,
  reason: string,
  seconds?: number,
): void {
  remediationsTotal.inc({ policy, action, outcome });
  if (seconds !== undefined) remediationDuration.observe({ policy, action, outcome }, seconds);
  if (outcome === 'Skipped' || outcome === 'Rejected' || outcome === 'NeedsAttention')
    skipsTotal.inc({ policy, reason: skipReason(outcome, reason) });
}

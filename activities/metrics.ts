/**
 * KubeMedic's own Prometheus metrics (prom-client), counted where outcomes are recorded so every
 * run is counted once. The worker serves this registry on its metrics port.
 */
import { Counter, Registry } from 'prom-client';
import type { Outcome } from '../workflows/types.ts';

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

export function countOutcome(policy: string, action: string, outcome: Outcome, reason: string): void {
  remediationsTotal.inc({ policy, action, outcome });
  if (outcome === 'Skipped' || outcome === 'Rejected' || outcome === 'NeedsAttention')
    skipsTotal.inc({ policy, reason: skipReason(outcome, reason) });
}

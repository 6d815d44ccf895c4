/**
 * A PagerDuty Events API v2 event for a notification (developer.pagerduty.com, "Send an Alert
 * Event"): one alert per run, keyed by `dedup_key`, so what the run says next lands on the same
 * alert and a run that ends Succeeded (or Skipped) resolves it. Pure; the routing key is the caller's, read
 * from its Secret in the activity, and this body is never returned into the history.
 */
import { createHash } from 'node:crypto';
import type { NotificationEvent } from '../api/policy.ts';
import { headline, type NotificationContext, notificationSubject, webhookPayload } from './notify-payload.ts';

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

/**
 * The events that close the run's alert: it succeeded, or it ended without acting (Skipped: a
 * limit, a pause, a target gone; a storm has KubeMedic's own alerts). Every other event triggers
 * (or updates) it, so a run that ends Failed, RolledBack or NeedsAttention leaves it open for a
 * person, and a pending approval pages.
 */
const resolving = ['Succeeded', 'Skipped'] as const;
type Resolving = (typeof resolving)[number];
const isResolving = (event: NotificationEvent): event is Resolving =>
  (resolving as readonly string[]).includes(event);

/** How loud each triggering event is. */
const severities: Record<Exclude<NotificationEvent, Resolving>, PagerDutySeverity> = {
  AwaitingApproval: 'warning',
  Failed: 'error',
  RolledBack: 'warning',
  RollbackConflict: 'error',
  NeedsAttention: 'error',
};

/** The documented limits: a dedup_key of at most 255 characters, a summary of at most 1024. */
export const dedupKeyLimit = 255;
export const summaryLimit = 1024;

/** One alert per run: the run's IDs, or their hash when they are longer than PagerDuty keeps. */
export function pagerDutyDedupKey(workflowId: string, runId: string): string {
  const key = `${workflowId}/${runId}`;
  if (key.length <= dedupKeyLimit) return key;
  return `kubemedic/${createHash('sha256').update(key).digest('hex')}`;
}

export type PagerDutyEvent =
  | { routing_key: string; event_action: 'resolve'; dedup_key: string }
  | {
      routing_key: string;
      event_action: 'trigger';
      dedup_key: string;
      payload: {
        summary: string;
        source: string;
        severity: PagerDutySeverity;
        timestamp: string;
        component: string;
        group: string;
        class: NotificationEvent;
        custom_details: ReturnType<typeof webhookPayload>;
      };
      client: 'KubeMedic';
      client_url?: string;
      links?: { href: string; text: string }[];
    };

/** Closes the run's alert, whatever it heard last (also for a run a person rejected or cancelled). */
export function pagerDutyResolve(
  context: Pick<NotificationContext, 'workflowId' | 'runId'>,
  routingKey: string,
): PagerDutyEvent {
  return {
    routing_key: routingKey,
    event_action: 'resolve',
    dedup_key: pagerDutyDedupKey(context.workflowId, context.runId),
  };
}

export function pagerDutyPayload(context: NotificationContext, routingKey: string): PagerDutyEvent {
  const dedupKey = pagerDutyDedupKey(context.workflowId, context.runId);
  const { event } = context;
  if (isResolving(event)) return pagerDutyResolve(context, routingKey);
  const summary = `KubeMedic ${headline(event)}: ${notificationSubject(context)}: ${context.reason}`;
  const { target } = context;
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: summary.length > summaryLimit ? `${summary.slice(0, summaryLimit - 3)}...` : summary,
      source: `${context.cluster}/${target.namespace ?? '_cluster'}/${target.kind}/${target.name}`,
      severity: severities[event],
      timestamp: context.time,
      component: `${target.kind} ${target.name}`,
      group: context.policy.namespace ?? '_cluster',
      class: event,
      custom_details: webhookPayload(context),
    },
    client: 'KubeMedic',
    ...(context.webUiUrl
      ? {
          client_url: context.webUiUrl,
          links: [{ href: context.webUiUrl, text: 'The run in the Temporal Web UI' }],
        }
      : {}),
  };
}

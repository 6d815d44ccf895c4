/**
 * The bodies KubeMedic sends to notification sinks: its own versioned JSON for a Webhook sink
 * and an incoming-webhook message (`text` + Block Kit `blocks`) for a Slack sink. Pure, so the
 * unit tests pin their exact shape; docs/notifications.md documents the same shape.
 */
import type { NotificationSink } from '../api/policy.ts';
import { approveCommand, type NotificationFacts, policyLabel, targetDisplay } from '../domain/run.ts';

/** What the worker adds to the run's facts. */
export interface NotificationContext extends NotificationFacts {
  workflowId: string;
  runId: string;
  /** The run in the Temporal Web UI, when the worker knows the UI's address. */
  webUiUrl?: string;
}

export interface RemediationNotification {
  apiVersion: 'kubemedic.io/v1';
  kind: 'RemediationNotification';
  /** Unique per run and event: a receiver can drop a repeated delivery by it. */
  id: string;
  event: NotificationFacts['event'];
  workflowId: string;
  runId: string;
  cluster: string;
  policy: { kind: string; namespace?: string; name: string };
  target: { kind: string; namespace?: string; name: string };
  action?: string;
  phase: string;
  outcome?: string;
  reason: string;
  /** Only while the run awaits approval. */
  approveCommand?: string;
  webUiUrl?: string;
  time: string;
}

export function webhookPayload(context: NotificationContext): RemediationNotification {
  const { policy, target } = context;
  return {
    apiVersion: 'kubemedic.io/v1',
    kind: 'RemediationNotification',
    id: `${context.workflowId}/${context.runId}/${context.event}`,
    event: context.event,
    workflowId: context.workflowId,
    runId: context.runId,
    cluster: context.cluster,
    policy: { kind: policy.kind, namespace: policy.namespace, name: policy.name },
    target: { kind: target.kind, namespace: target.namespace, name: target.name },
    action: context.action,
    phase: context.phase,
    outcome: context.outcome,
    reason: context.reason,
    approveCommand:
      context.event === 'AwaitingApproval' ? approveCommand(context.workflowId, context.cluster) : undefined,
    webUiUrl: context.webUiUrl,
    time: context.time,
  };
}

const headlines: Record<NotificationFacts['event'], string> = {
  AwaitingApproval: ':raised_hand: awaits approval',
  Succeeded: ':white_check_mark: succeeded',
  Failed: ':x: failed',
  RolledBack: ':leftwards_arrow_with_hook: rolled back',
  RollbackConflict: ':warning: rollback conflict',
  Skipped: ':fast_forward: skipped',
  NeedsAttention: ':rotating_light: needs attention',
};

/** A Slack incoming-webhook message: `text` for notifications and clients without blocks. */
export function slackPayload(context: NotificationContext): { text: string; blocks: unknown[] } {
  const payload = webhookPayload(context);
  const subject = `${targetDisplay(context.target)} (policy ${policyLabel(context.policy)}, cluster ${context.cluster})`;
  const text = `KubeMedic ${headlines[context.event]}: ${subject}: ${context.reason}`;
  const fields = [
    `*Action* ${context.action ?? 'none'}`,
    `*Phase* ${context.phase}`,
    ...(payload.approveCommand ? [`*Approve* \`${payload.approveCommand}\``] : []),
    ...(context.webUiUrl ? [`<${context.webUiUrl}|Open the run in the Temporal Web UI>`] : []),
  ];
  return {
    text,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `*KubeMedic ${headlines[context.event]}*\n${subject}` },
      },
      { type: 'section', text: { type: 'mrkdwn', text: context.reason } },
      { type: 'context', elements: fields.map((field) => ({ type: 'mrkdwn', text: field })) },
    ],
  };
}

/** The body for a sink, as the exact string that is signed and sent. */
export function renderFor(sink: Pick<NotificationSink, 'type'>, context: NotificationContext): string {
  return JSON.stringify(sink.type === 'Slack' ? slackPayload(context) : webhookPayload(context));
}

/** The Temporal Web UI's page of one run. */
export function webUiRunUrl(base: string, namespace: string, workflowId: string, runId: string): string {
  return `${base.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
}

/**
 * The bodies KubeMedic sends to notification sinks: its own versioned JSON for a Webhook sink
 * and an incoming-webhook message (`text` + Block Kit `blocks`) for a Slack sink. Pure, so the
 * unit tests pin their exact shape; docs/notifications.md documents the same shape.
 */
import { approveCommand, type NotificationFacts, policyLabel, targetDisplay } from '../domain/run.ts';
import { slackEscape } from './notify-escape.ts';

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
  /** The pods the run removed, as they were (one line each), and the command that shows their logs. */
  evidence?: { pods: string[]; showCommand: string };
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
    ...(context.evidence
      ? {
          evidence: { pods: context.evidence, showCommand: showCommand(context.workflowId, context.cluster) },
        }
      : {}),
  };
}

/** The command that prints a run, its evidence's logs included. */
export const showCommand = (workflowId: string, cluster: string) =>
  `kubemedic show ${workflowId} --cluster ${cluster}`;

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
  const subject = slackEscape(notificationSubject(context));
  const reason = slackEscape(context.reason);
  const text = `KubeMedic ${headlines[context.event]}: ${subject}: ${reason}`;
  const fields = [
    `*Action* ${slackEscape(context.action ?? 'none')}`,
    `*Phase* ${slackEscape(context.phase)}`,
    ...(payload.approveCommand ? [`*Approve* \`${slackEscape(payload.approveCommand)}\``] : []),
    ...(payload.evidence
      ? [
          `*Evidence* ${slackEscape(payload.evidence.pods.join('; '))}; logs: \`${slackEscape(payload.evidence.showCommand)}\``,
        ]
      : []),
    ...(context.webUiUrl ? [`<${context.webUiUrl}|Open the run in the Temporal Web UI>`] : []),
  ];
  return {
    text,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `*KubeMedic ${headlines[context.event]}*\n${subject}` },
      },
      { type: 'section', text: { type: 'mrkdwn', text: reason } },
      { type: 'context', elements: fields.map((field) => ({ type: 'mrkdwn', text: field })) },
    ],
  };
}

/** What a notification is about, in one line: the target, its policy and cluster. */
export const notificationSubject = (context: NotificationFacts) =>
  `${targetDisplay(context.target)} (policy ${policyLabel(context.policy)}, cluster ${context.cluster})`;

/** A notification's headline without Slack's emoji codes: `awaits approval`, `rolled back`. */
export const headline = (event: NotificationFacts['event']) => headlines[event].replace(/^:[a-z_]+: /, '');

/** The Temporal Web UI's page of one run. */
export function webUiRunUrl(base: string, namespace: string, workflowId: string, runId: string): string {
  return `${base.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${runId}/history`;
}

/**
 * A Microsoft Teams message for a notification: an Adaptive Card in a `message` activity, the
 * shape Teams incoming webhooks and Workflows ("When a Teams webhook request is received")
 * take (learn.microsoft.com, "Send Adaptive Cards using an Incoming Webhook"). Pure.
 */
import { headline, type NotificationContext, notificationSubject, webhookPayload } from './notify-payload.ts';

/** Teams renders Adaptive Cards up to 1.5; 1.4 is what incoming webhooks render on every client. */
export const adaptiveCardVersion = '1.4';
/** A reason is KubeMedic's own text, but it can quote long API answers: Teams refuses messages over ~28 KB. */
const reasonLimit = 4000;

export interface TeamsMessage {
  type: 'message';
  attachments: {
    contentType: 'application/vnd.microsoft.card.adaptive';
    contentUrl: null;
    content: {
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
      type: 'AdaptiveCard';
      version: string;
      body: unknown[];
      actions: { type: 'Action.OpenUrl'; title: string; url: string }[];
      msteams: { width: 'Full' };
    };
  }[];
}

export function teamsPayload(context: NotificationContext): TeamsMessage {
  const { approveCommand } = webhookPayload(context);
  const reason =
    context.reason.length > reasonLimit ? `${context.reason.slice(0, reasonLimit - 3)}...` : context.reason;
  const facts = [
    { title: 'Action', value: context.action ?? 'none' },
    { title: 'Phase', value: context.phase },
    ...(context.outcome ? [{ title: 'Outcome', value: context.outcome }] : []),
    ...(approveCommand ? [{ title: 'Approve', value: approveCommand }] : []),
  ];
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: adaptiveCardVersion,
          body: [
            {
              type: 'TextBlock',
              text: `KubeMedic ${headline(context.event)}`,
              weight: 'Bolder',
              size: 'Medium',
              wrap: true,
            },
            { type: 'TextBlock', text: notificationSubject(context), wrap: true },
            { type: 'TextBlock', text: reason, wrap: true },
            { type: 'FactSet', facts },
          ],
          actions: context.webUiUrl
            ? [
                {
                  type: 'Action.OpenUrl',
                  title: 'Open the run in the Temporal Web UI',
                  url: context.webUiUrl,
                },
              ]
            : [],
          msteams: { width: 'Full' },
        },
      },
    ],
  };
}

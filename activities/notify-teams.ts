/**
 * A Microsoft Teams message for a notification: an Adaptive Card in a `message` activity, the
 * shape Teams incoming webhooks and Workflows ("When a Teams webhook request is received")
 * take (learn.microsoft.com, "Send Adaptive Cards using an Incoming Webhook"). Pure.
 */
import { clipEscaped, teamsEscape } from './notify-escape.ts';
import { headline, type NotificationContext, notificationSubject, webhookPayload } from './notify-payload.ts';

/** Teams renders Adaptive Cards up to 1.5; 1.4 is what incoming webhooks render on every client. */
export const adaptiveCardVersion = '1.4';
/**
 * A reason is KubeMedic's own text, but it can quote long API answers, and the evidence quotes
 * Event messages: Teams refuses messages over ~28 KB, so each is cut (after escaping, which can
 * make text up to five times longer) well below it.
 */
const reasonLimit = 4000;
const evidenceLimit = 3000;

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
  const { approveCommand, evidence } = webhookPayload(context);
  // Every value but KubeMedic's own words is escaped: names, the reason, the commands that hold names
  const fact = (title: string, value: string) => ({ title, value: teamsEscape(value) });
  const facts = [
    fact('Action', context.action ?? 'none'),
    fact('Phase', context.phase),
    ...(context.outcome ? [fact('Outcome', context.outcome)] : []),
    ...(approveCommand ? [fact('Approve', approveCommand)] : []),
    ...(evidence
      ? [
          { title: 'Evidence', value: clipEscaped(teamsEscape(evidence.pods.join('; ')), evidenceLimit) },
          fact('Logs', evidence.showCommand),
        ]
      : []),
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
            { type: 'TextBlock', text: teamsEscape(notificationSubject(context)), wrap: true },
            { type: 'TextBlock', text: clipEscaped(teamsEscape(context.reason), reasonLimit), wrap: true },
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

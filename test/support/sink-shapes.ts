/**
 * The payload shapes the real services document, checked field by field: the unit tests check
 * what KubeMedic renders, the integration tests what a local receiver got on the wire.
 */
import assert from 'node:assert/strict';

/**
 * PagerDuty's documented Events API v2 shape ("Send an Alert Event", developer.pagerduty.com):
 * routing_key and event_action required; dedup_key at most 255 characters; for a trigger,
 * payload.summary (at most 1024), payload.source and payload.severity (critical, error, warning
 * or info) required. The integration test checks the same on the wire.
 */
export function assertPagerDutyEvent(event: unknown, routingKey: string): void {
  const e = event as Record<string, unknown>;
  assert.equal(e.routing_key, routingKey);
  assert.ok(['trigger', 'resolve'].includes(String(e.event_action)), String(e.event_action));
  assert.equal(typeof e.dedup_key, 'string');
  assert.ok((e.dedup_key as string).length > 0 && (e.dedup_key as string).length <= 255);
  if (e.event_action === 'resolve') {
    assert.deepEqual(Object.keys(e).sort(), ['dedup_key', 'event_action', 'routing_key']);
    return;
  }
  const payload = e.payload as Record<string, unknown>;
  assert.equal(typeof payload.summary, 'string');
  assert.ok((payload.summary as string).length <= 1024);
  assert.equal(typeof payload.source, 'string');
  assert.ok(['critical', 'error', 'warning', 'info'].includes(String(payload.severity)));
  assert.ok(!Number.isNaN(Date.parse(String(payload.timestamp))));
  assert.equal(typeof payload.custom_details, 'object');
}

/**
 * Teams' documented incoming-webhook shape ("Send Adaptive Cards using an Incoming Webhook",
 * learn.microsoft.com): a `message` whose `attachments` hold one card with contentType
 * application/vnd.microsoft.card.adaptive and the AdaptiveCard itself in `content`.
 */
export function assertTeamsMessage(message: unknown): Record<string, unknown> {
  const m = message as { type: unknown; attachments: Record<string, unknown>[] };
  assert.equal(m.type, 'message');
  assert.equal(m.attachments.length, 1);
  const [attachment] = m.attachments;
  assert.equal(attachment!.contentType, 'application/vnd.microsoft.card.adaptive');
  const card = attachment!.content as Record<string, unknown>;
  assert.equal(card.type, 'AdaptiveCard');
  assert.match(String(card.version), /^1\.[0-5]$/);
  assert.equal(card.$schema, 'http://adaptivecards.io/schemas/adaptive-card.json');
  assert.ok(Array.isArray(card.body) && card.body.length > 0);
  for (const element of card.body as { type: string }[]) {
    assert.ok(['TextBlock', 'FactSet'].includes(element.type), element.type);
  }
  assert.ok(JSON.stringify(message).length < 28_000, "under Teams' message size limit");
  return card;
}

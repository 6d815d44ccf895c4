/**
 * The notification payloads and their signature, as docs/notifications.md documents them, and
 * the watcher's check that a namespaced policy can read its signing Secret.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clipEscaped, slackEscape, teamsEscape } from '../../activities/notify-escape.ts';
import {
  type NotificationContext,
  slackPayload,
  webhookPayload,
  webUiRunUrl,
} from '../../activities/notify-payload.ts';
import { pagerDutyDedupKey, pagerDutyPayload, pagerDutyResolve } from '../../activities/notify-pagerduty.ts';
import { teamsPayload } from '../../activities/notify-teams.ts';
import { assertPagerDutyEvent, assertTeamsMessage } from '../support/sink-shapes.ts';
import { sign, verifySignature } from '../../activities/notify-signature.ts';
import { notificationSink, type PolicyKind, signingNeedsServiceAccountMessage } from '../../api/policy.ts';
import { checkPolicy } from '../../policy-watcher/policies.ts';

const awaiting: NotificationContext = {
  event: 'AwaitingApproval',
  cluster: 'prod-eu',
  policy: { kind: 'RemediationPolicy', namespace: 'shop', name: 'cpu', uid: 'u-1', generation: 3 },
  target: { kind: 'Deployment', namespace: 'shop', name: 'web' },
  action: 'Scale',
  phase: 'AwaitingApproval',
  reason: 'Scale on Deployment shop/web awaits approval within 1h; onTimeout is Reject',
  time: '2026-11-26T03:00:00.000Z',
  workflowId: 'remediation/prod-eu/shop/Deployment/web/cpu',
  runId: 'r-1',
};

describe('the webhook payload', () => {
  it('carries the exact approve command while a run awaits approval', () => {
    // Given a run awaiting approval, when its payload is built, then it is exactly this
    assert.deepEqual(webhookPayload(awaiting), {
      apiVersion: 'kubemedic.io/v1',
      kind: 'RemediationNotification',
      id: 'remediation/prod-eu/shop/Deployment/web/cpu/r-1/AwaitingApproval',
      event: 'AwaitingApproval',
      workflowId: 'remediation/prod-eu/shop/Deployment/web/cpu',
      runId: 'r-1',
      cluster: 'prod-eu',
      policy: { kind: 'RemediationPolicy', namespace: 'shop', name: 'cpu' },
      target: { kind: 'Deployment', namespace: 'shop', name: 'web' },
      action: 'Scale',
      phase: 'AwaitingApproval',
      outcome: undefined,
      reason: 'Scale on Deployment shop/web awaits approval within 1h; onTimeout is Reject',
      approveCommand: 'kubemedic approve remediation/prod-eu/shop/Deployment/web/cpu --cluster prod-eu',
      webUiUrl: undefined,
      time: '2026-11-26T03:00:00.000Z',
    });
  });

  it('has no approve command once the run has ended, and names the outcome', () => {
    const payload = webhookPayload({
      ...awaiting,
      event: 'RolledBack',
      phase: 'RolledBack',
      outcome: 'RolledBack',
    });
    assert.equal(payload.approveCommand, undefined);
    assert.equal(payload.outcome, 'RolledBack');
    assert.equal(payload.id, 'remediation/prod-eu/shop/Deployment/web/cpu/r-1/RolledBack');
    // And what is sent leaves the absent fields out
    assert.doesNotMatch(
      JSON.stringify(webhookPayload({ ...awaiting, event: 'Succeeded' })),
      /approveCommand/,
    );
  });
});

describe('the Slack payload', () => {
  it('says what happened in text and blocks, with the approve command and the Web UI link', () => {
    const webUiUrl = webUiRunUrl('http://ui.example:8233/', 'default', awaiting.workflowId, 'r-1');
    assert.equal(
      webUiUrl,
      'http://ui.example:8233/namespaces/default/workflows/remediation%2Fprod-eu%2Fshop%2FDeployment%2Fweb%2Fcpu/r-1/history',
    );
    const slack = slackPayload({ ...awaiting, webUiUrl });
    assert.equal(
      slack.text,
      'KubeMedic :raised_hand: awaits approval: Deployment shop/web (policy shop/cpu, cluster prod-eu): ' +
        'Scale on Deployment shop/web awaits approval within 1h; onTimeout is Reject',
    );
    const blocks = JSON.stringify(slack.blocks);
    assert.match(
      blocks,
      /kubemedic approve remediation\/prod-eu\/shop\/Deployment\/web\/cpu --cluster prod-eu/,
    );
    assert.ok(blocks.includes(`<${webUiUrl}|Open the run in the Temporal Web UI>`));
    assert.deepEqual(Object.keys(slack), ['text', 'blocks']);
  });

  it("escapes &, < and > in everything it did not write itself, as Slack's mrkdwn requires", () => {
    // Given a hostile name and reason (a cluster policy may target any name; reasons quote answers)
    const hostile = '<!channel> & <https://evil.example|click me>';
    const slack = slackPayload({
      ...awaiting,
      cluster: 'c<1>',
      target: { kind: 'Deployment', namespace: 'shop', name: hostile },
      reason: `${hostile} failed`,
      webUiUrl: 'http://ui.example:8233/run',
    });
    // Then no raw <, > or & of theirs reaches the message: no mention, no link, no entity of theirs
    const escaped = '&lt;!channel&gt; &amp; &lt;https://evil.example|click me&gt;';
    assert.equal(slackEscape(hostile), escaped);
    const texts = [slack.text, ...JSON.stringify(slack.blocks).match(/"text":"(?:[^"\\]|\\.)*"/g)!];
    for (const text of texts) {
      assert.ok(!text.includes('<!channel>') && !text.includes('<https://evil'), text);
    }
    assert.ok(slack.text.includes(`Deployment shop/${escaped} (policy shop/cpu, cluster c&lt;1&gt;)`));
    assert.ok(slack.text.endsWith(`${escaped} failed`));
    // And its own link stays a link
    assert.ok(
      JSON.stringify(slack.blocks).includes(
        '<http://ui.example:8233/run|Open the run in the Temporal Web UI>',
      ),
    );
    // And an entity already written is escaped again, so it shows as written
    assert.equal(slackEscape('&amp;'), '&amp;amp;');
  });
});

describe('the PagerDuty event', () => {
  it('triggers one alert per run while it needs a person, and resolves it when the run succeeds', () => {
    const trigger = pagerDutyPayload({ ...awaiting, webUiUrl: 'http://ui.example/run' }, 'R0UTING');
    assertPagerDutyEvent(trigger, 'R0UTING');
    assert.equal(trigger.event_action, 'trigger');
    assert.equal(trigger.dedup_key, 'remediation/prod-eu/shop/Deployment/web/cpu/r-1');
    assert.ok(trigger.event_action === 'trigger' && trigger.payload.severity === 'warning');
    assert.deepEqual(trigger.event_action === 'trigger' && trigger.links, [
      { href: 'http://ui.example/run', text: 'The run in the Temporal Web UI' },
    ]);
    const resolve = pagerDutyPayload({ ...awaiting, event: 'Succeeded', outcome: 'Succeeded' }, 'R0UTING');
    assertPagerDutyEvent(resolve, 'R0UTING');
    assert.deepEqual(resolve, {
      routing_key: 'R0UTING',
      event_action: 'resolve',
      dedup_key: trigger.dedup_key,
    });
    // The explicit resolve (a run a person rejected) closes the same alert
    assert.deepEqual(pagerDutyResolve(awaiting, 'R0UTING'), resolve);
    // A run that ended without acting closes it too
    assert.deepEqual(
      pagerDutyPayload({ ...awaiting, event: 'Skipped', outcome: 'Skipped' }, 'R0UTING'),
      resolve,
    );
    // A failure keeps it open, louder
    const failed = pagerDutyPayload({ ...awaiting, event: 'Failed', outcome: 'Failed' }, 'R0UTING');
    assert.ok(failed.event_action === 'trigger' && failed.payload.severity === 'error');
  });

  it('keeps within the documented limits: a 1024-character summary, a 255-character dedup_key', () => {
    const long = pagerDutyPayload(
      { ...awaiting, reason: 'x'.repeat(5000), workflowId: 'w'.repeat(600) },
      'k',
    );
    assertPagerDutyEvent(long, 'k');
    assert.ok(long.event_action === 'trigger' && long.payload.summary.length === 1024);
    assert.equal(long.dedup_key, pagerDutyDedupKey('w'.repeat(600), 'r-1'));
    assert.match(long.dedup_key, /^kubemedic\/[0-9a-f]{64}$/);
    assert.notEqual(pagerDutyDedupKey('w'.repeat(600), 'r-2'), long.dedup_key);
  });
});

describe('the Teams message', () => {
  it('is an Adaptive Card naming the target, the reason, the approve command and the run', () => {
    const card = assertTeamsMessage(teamsPayload({ ...awaiting, webUiUrl: 'http://ui.example/run' }));
    const text = JSON.stringify(card.body);
    assert.ok(text.includes('KubeMedic awaits approval'));
    assert.ok(text.includes('Deployment shop/web (policy shop/cpu, cluster prod-eu)'));
    assert.ok(
      text.includes('kubemedic approve remediation/prod-eu/shop/Deployment/web/cpu --cluster prod-eu'),
    );
    assert.deepEqual(card.actions, [
      { type: 'Action.OpenUrl', title: 'Open the run in the Temporal Web UI', url: 'http://ui.example/run' },
    ]);
    assertTeamsMessage(teamsPayload({ ...awaiting, reason: 'y'.repeat(50_000) }));
  });

  it('escapes what a tenant controls, so a hostile name or reason makes no link, emphasis or list', () => {
    // Given a target name and a reason written to render as markup in a TextBlock
    const hostile = '[click me](https://evil.example) *urgent* _now_ &lt;b&gt;';
    const card = assertTeamsMessage(
      teamsPayload({
        ...awaiting,
        target: { kind: 'Deployment', namespace: 'shop', name: hostile },
        reason: `- ${hostile}\n1. second item`,
        webUiUrl: 'http://ui.example/run',
      }),
    );
    // Then each markup mark is escaped, and an entity of theirs shows as written
    const escaped = '\\[click me\\](https://evil.example) \\*urgent\\* \\_now\\_ &amp;lt;b&amp;gt;';
    assert.equal(teamsEscape(hostile), escaped);
    const [, subject, reason, facts] = card.body as { text?: string; facts?: { value: string }[] }[];
    assert.equal(subject!.text, `Deployment shop/${escaped} (policy shop/cpu, cluster prod-eu)`);
    assert.equal(reason!.text, `\\- ${escaped}\n1\\. second item`);
    // And no raw link, emphasis or entity of theirs is anywhere in the card (the facts hold names too)
    for (const text of [subject!.text!, reason!.text!, ...facts!.facts!.map((f) => f.value)]) {
      assert.ok(!/(?<!\\)[[*_]/.test(text) && !text.includes('&lt;b&gt;'), text);
    }
    // And KubeMedic's own link stays a link
    assert.equal((card.actions as { url: string }[])[0]!.url, 'http://ui.example/run');
    // And a cut never leaves half an escape: no lone backslash before the ellipsis
    assert.equal(clipEscaped(teamsEscape('aaaaaa*bbb'), 10), 'aaaaaa...');
    assert.equal(clipEscaped(teamsEscape('aaaa&bbb'), 10), 'aaaa...');
  });
});

describe('a sink in the schema', () => {
  const ref = { name: 'pd', key: 'routingKey' };
  const problems = (sink: unknown) => {
    const parsed = notificationSink.safeParse(sink);
    return parsed.success ? [] : parsed.error.issues.map((i) => i.message);
  };
  it('takes what gives access from Secrets only, each type its own fields', () => {
    assert.deepEqual(problems({ type: 'PagerDuty', routingKeySecretRef: ref }), []);
    assert.deepEqual(problems({ type: 'Slack', urlSecretRef: ref }), []);
    assert.deepEqual(problems({ type: 'MSTeams', urlSecretRef: ref }), []);
    assert.deepEqual(problems({ type: 'Webhook', urlSecretRef: ref, secretRef: ref }), []);
    assert.deepEqual(problems({ type: 'Slack' }), ['a Webhook, Slack or MSTeams sink needs urlSecretRef']);
    assert.deepEqual(problems({ type: 'PagerDuty', urlSecretRef: ref }), [
      'a PagerDuty sink needs routingKeySecretRef (and takes eventsUrl, not urlSecretRef)',
    ]);
    assert.deepEqual(problems({ type: 'Slack', urlSecretRef: ref, secretRef: ref }), [
      'only a Webhook sink is signed (secretRef)',
    ]);
    assert.deepEqual(problems({ type: 'MSTeams', urlSecretRef: ref, eventsUrl: 'https://x.example' }), [
      'routingKeySecretRef and eventsUrl are for PagerDuty sinks only',
    ]);
    // An inline URL is no field of a sink: it would sit in every run's input and history
    assert.ok(
      !(
        'url' in
        notificationSink.parse({ type: 'Slack', urlSecretRef: ref, url: 'https://hooks.slack.com/x' })
      ),
    );
  });
});

describe('the signature', () => {
  it('is the hex HMAC-SHA256 of "<timestamp>.<body>", as openssl computes it', () => {
    // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac k3y
    assert.equal(
      sign('k3y', '1700000000', '{"a":1}'),
      'sha256=fd5a70e965043f7df6309c2c3b5ff5a8ffa99b1f5175e9a311459e73c4634d4a',
    );
  });

  it('verifies only the body and timestamp it was made for, with the right key', () => {
    const signature = sign('k3y', '1700000000', '{"a":1}');
    assert.equal(verifySignature('k3y', '1700000000', '{"a":1}', signature), true);
    assert.equal(verifySignature('k3y', '1700000000', '{"a":2}', signature), false);
    assert.equal(verifySignature('k3y', '1700000001', '{"a":1}', signature), false);
    assert.equal(verifySignature('other', '1700000000', '{"a":1}', signature), false);
    assert.equal(verifySignature('k3y', '1700000000', '{"a":1}', 'sha256=00'), false);
  });
});

describe('a sink in the watcher', () => {
  const withSignedSink = (kind: PolicyKind, serviceAccountName?: string) =>
    checkPolicy(kind, {
      metadata: {
        name: 'p',
        namespace: kind === 'RemediationPolicy' ? 'shop' : undefined,
        uid: 'u',
        generation: 1,
      },
      spec: {
        target:
          kind === 'RemediationPolicy' ? { kind: 'Deployment', name: 'web' } : { kind: 'Node', name: 'n1' },
        serviceAccountName,
        conditions: [
          {
            name: 'down',
            source: 'Kubernetes',
            kubernetes: { state: kind === 'RemediationPolicy' ? 'DeploymentUnavailable' : 'NodeNotReady' },
            threshold: 1,
          },
        ],
        actions: [{ type: kind === 'RemediationPolicy' ? 'RolloutRestart' : 'CordonNode' }],
        notifications: [
          {
            type: 'Webhook',
            urlSecretRef: { name: 'hooks', key: 'url' },
            secretRef: { name: 'hooks', key: 'hmac' },
          },
        ],
      },
    });

  it("makes a namespaced policy without a ServiceAccount Invalid (admitted before the CRD's rule)", () => {
    const check = withSignedSink('RemediationPolicy');
    assert.equal(check.valid, false);
    assert.equal(!check.valid && check.reason, signingNeedsServiceAccountMessage);
    assert.equal(withSignedSink('RemediationPolicy', 'notifier').valid, true);
  });

  it("accepts it in a cluster policy, whose Secrets live in KubeMedic's own namespace", () => {
    assert.equal(withSignedSink('ClusterRemediationPolicy').valid, true);
  });
});

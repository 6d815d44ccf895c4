/**
 * A notification of a run that removed pods summarises their evidence and names the command that
 * prints their logs (issue 11: evidence "linked from the notification"); the logs themselves stay
 * in the run. The summary is the one the Web UI and `kubemedic explain` show (domain/evidence.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type NotificationContext, slackPayload, webhookPayload } from '../../activities/notify-payload.ts';
import { pagerDutyPayload } from '../../activities/notify-pagerduty.ts';
import { teamsPayload } from '../../activities/notify-teams.ts';
import { assertPagerDutyEvent, assertTeamsMessage } from '../support/sink-shapes.ts';
import { type Evidence, evidenceBounds, evidenceSummary } from '../../domain/evidence.ts';
import { runDetails } from '../../workflows/run-details.ts';

const evidence: Evidence = {
  capturedAt: '2026-11-30T09:00:00.000Z',
  omittedPods: 2,
  bounds: evidenceBounds,
  pods: [
    {
      namespace: 'shop',
      name: 'web-1',
      uid: 'p-1',
      phase: 'Running',
      node: 'n1',
      conditions: ['Ready=False (ContainersNotReady)'],
      containers: [
        {
          name: 'app',
          ready: false,
          restartCount: 5,
          state: 'waiting: CrashLoopBackOff',
          lastState: 'terminated: Error (exit 1)',
          logOf: 'previous',
          log: 'panic: <db> unreachable\n',
        },
      ],
      events: [
        {
          type: 'Warning',
          reason: 'BackOff',
          message: 'Back-off restarting',
          count: 7,
          lastSeen: '2026-11-30T08:59:00.000Z',
        },
      ],
    },
  ],
};

const succeeded: NotificationContext = {
  event: 'Succeeded',
  cluster: 'prod-eu',
  policy: { kind: 'RemediationPolicy', namespace: 'shop', name: 'restart', uid: 'u-1', generation: 1 },
  target: { kind: 'Deployment', namespace: 'shop', name: 'web' },
  action: 'RestartPod',
  phase: 'Succeeded',
  outcome: 'Succeeded',
  reason: 'deleted Pod shop/web-1',
  time: '2026-11-30T09:01:00.000Z',
  workflowId: 'remediation/prod-eu/shop/Deployment/web/restart',
  runId: 'r-1',
  evidence: evidenceSummary(evidence),
};

describe('evidence in notifications', () => {
  it('one line per pod, and how many more were not described', () => {
    assert.deepEqual(evidenceSummary(evidence), [
      'shop/web-1 (Running on n1): app waiting: CrashLoopBackOff, 5 restarts; 1/1 container with logs, 1 Event; last warning BackOff: Back-off restarting',
      'and 2 more pods not described',
    ]);
  });

  it('the webhook payload carries the summary and the command that prints the logs', () => {
    assert.deepEqual(webhookPayload(succeeded).evidence, {
      pods: evidenceSummary(evidence),
      showCommand: 'kubemedic show remediation/prod-eu/shop/Deployment/web/restart --cluster prod-eu',
    });
    // and a run that removed no pods has no evidence key at all
    assert.ok(!('evidence' in webhookPayload({ ...succeeded, evidence: undefined })));
  });

  it('the Slack message names it, escaped', () => {
    const fields = JSON.stringify(slackPayload(succeeded).blocks);
    assert.match(fields, /\*Evidence\* shop\/web-1 \(Running on n1\)/);
    assert.match(
      fields,
      /logs: `kubemedic show remediation\/prod-eu\/shop\/Deployment\/web\/restart --cluster prod-eu`/,
    );
  });

  it('a PagerDuty trigger carries it in custom_details.evidence, as the webhook payload does', () => {
    // (a Succeeded run resolves its alert, which has no payload: a failed one pages)
    const event = pagerDutyPayload({ ...succeeded, event: 'Failed', outcome: 'Failed' }, 'R0UTING');
    assertPagerDutyEvent(event, 'R0UTING');
    assert.ok(event.event_action === 'trigger');
    assert.deepEqual(event.payload.custom_details.evidence, webhookPayload(succeeded).evidence);
  });

  it('the Teams card names it and the command that prints the logs, escaped', () => {
    const card = assertTeamsMessage(
      teamsPayload({ ...succeeded, evidence: ['shop/web_1 (Running): last warning BackOff: *boom*'] }),
    );
    const [facts] = (card.body as { type: string; facts?: unknown }[]).filter((e) => e.type === 'FactSet');
    assert.deepEqual((facts!.facts as { title: string }[]).slice(-2), [
      { title: 'Evidence', value: 'shop/web\\_1 (Running): last warning BackOff: \\*boom\\*' },
      {
        title: 'Logs',
        value: 'kubemedic show remediation/prod-eu/shop/Deployment/web/restart --cluster prod-eu',
      },
    ]);
  });

  it('the largest evidence keeps PagerDuty within 512 KB and Teams within its ~28 KB', () => {
    // Given the most evidence describes: every pod, long names, many containers, a full warning
    // message of characters that escaping makes five times longer
    const name = 'p'.repeat(253);
    const container = { ...evidence.pods[0]!.containers[0]!, name: 'c'.repeat(63), restartCount: 99_999 };
    const pod = {
      ...evidence.pods[0]!,
      name,
      node: 'n'.repeat(253),
      containers: Array.from({ length: 20 }, () => container),
      events: [{ ...evidence.pods[0]!.events[0]!, message: '&'.repeat(evidenceBounds.message) }],
    };
    const largest = evidenceSummary({
      ...evidence,
      pods: Array.from({ length: evidenceBounds.pods }, () => pod),
      omittedPods: 500,
    });
    const context = { ...succeeded, event: 'Failed' as const, reason: '_'.repeat(10_000), evidence: largest };
    const bytes = Buffer.byteLength(JSON.stringify(pagerDutyPayload(context, 'R0UTING')));
    assert.ok(bytes <= 512 * 1024, `${bytes} bytes`);
    // And Teams (assertTeamsMessage checks the size) gets a cut summary, still ending cleanly
    const card = assertTeamsMessage(teamsPayload(context));
    assert.match(JSON.stringify(card.body), /"title":"Evidence","value":"[^"]{1,2997}\.\.\."/);
  });

  it("the Web UI's current details summarise it under the step's backup", () => {
    const details = runDetails({
      phase: 'Executing',
      target: succeeded.target,
      policy: succeeded.policy,
      dryRun: false,
      steps: [
        {
          index: 0,
          action: 'RestartPod',
          backup: {
            target: succeeded.target,
            action: 'RestartPod',
            object: { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-1' },
            resourceVersion: '1',
            fields: { '/metadata/uid': 'p-1' },
            hash: 'a'.repeat(64),
            capturedAt: '2026-11-30T09:00:00.000Z',
            evidence,
          },
        },
      ],
    });
    assert.ok(
      details.includes(
        `- evidence kept before the pods were removed (\`kubemedic show\` prints their logs): ${evidenceSummary(evidence).join('; ')}`,
      ),
      details,
    );
  });
});

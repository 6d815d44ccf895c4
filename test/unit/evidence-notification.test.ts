/**
 * A notification of a run that removed pods summarises their evidence and names the command that
 * prints their logs (issue 11: evidence "linked from the notification"); the logs themselves stay
 * in the run. The summary is the one the Web UI and `kubemedic explain` show (domain/evidence.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type NotificationContext, slackPayload, webhookPayload } from '../../activities/notify-payload.ts';
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

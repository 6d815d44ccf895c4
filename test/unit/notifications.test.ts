/**
 * The notification payloads and their signature, as docs/notifications.md documents them, and
 * the watcher's check that a namespaced policy can read its signing Secret.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type NotificationContext,
  renderFor,
  slackPayload,
  webhookPayload,
  webUiRunUrl,
} from '../../activities/notify-payload.ts';
import { sign, verifySignature } from '../../activities/notify-signature.ts';
import { type PolicyKind, signingNeedsServiceAccountMessage } from '../../api/policy.ts';
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
      renderFor({ type: 'Webhook' }, { ...awaiting, event: 'Succeeded' }),
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
    // And a Slack sink is sent this shape, not the webhook one
    assert.deepEqual(Object.keys(JSON.parse(renderFor({ type: 'Slack' }, awaiting)) as object), [
      'text',
      'blocks',
    ]);
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

describe('a signed sink in the watcher', () => {
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
          { type: 'Webhook', url: 'https://hooks.example', secretRef: { name: 'hooks', key: 'hmac' } },
        ],
      },
    });

  it("makes a namespaced policy without a ServiceAccount Invalid (admitted before the CRD's rule)", () => {
    const check = withSignedSink('RemediationPolicy');
    assert.equal(check.valid, false);
    assert.equal(!check.valid && check.reason, signingNeedsServiceAccountMessage);
    assert.equal(withSignedSink('RemediationPolicy', 'notifier').valid, true);
  });

  it("accepts it in a cluster policy, whose key lives in KubeMedic's own namespace", () => {
    assert.equal(withSignedSink('ClusterRemediationPolicy').valid, true);
  });
});

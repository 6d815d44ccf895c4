/**
 * The notify activity against a real API server (the signing Secret) and a real HTTP receiver,
 * run in an activity context: where a policy's key comes from and as whom it is read, what is
 * not worth a retry, and what is counted.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notificationsTotal } from '../../activities/metrics.ts';
import { createNotify, type NotifyInput } from '../../activities/notify.ts';
import type { OutboundRules } from '../../activities/outbound.ts';
import type { RemediationNotification } from '../../activities/notify-payload.ts';
import { givenServiceAccount } from '../support/service-accounts.ts';
import { kubeconfig, useTestNamespace } from '../support/stack.ts';
import { createSigningSecret, signedWith, useWebhookReceiver } from '../support/webhook-receiver.ts';

// Plays KubeMedic's own namespace, where a cluster policy's Secrets live.
const own = useTestNamespace('kmt-notify');
// A tenant's namespace, with a namespaced policy's Secret.
const tenant = useTestNamespace('kmt-tenant');
const receiver = useWebhookReceiver();
const run = { workflowId: 'remediation/c1/_cluster/Node/n1/cluster:nodes', runId: 'run-1' };

const facts: NotifyInput['facts'] = {
  event: 'NeedsAttention',
  cluster: 'c1',
  policy: { kind: 'ClusterRemediationPolicy', name: 'nodes', uid: 'u', generation: 1 },
  target: { kind: 'Node', name: 'n1' },
  action: 'CordonNode',
  phase: 'NeedsAttention',
  outcome: 'NeedsAttention',
  reason: 'needs-attention: 2 attempts on this target within the window; the limit is 2',
  time: '2026-11-26T03:00:00.000Z',
};

/** Our receiver listens on loopback, which the worker refuses unless told (as tests do) to allow it. */
function notifyInActivity(input: NotifyInput, outbound: OutboundRules = { allowLoopback: true }) {
  const notify = createNotify({
    kubeconfig: kubeconfig(),
    ownNamespace: own.name,
    webUiUrl: 'http://ui.example:8233',
    outbound,
  });
  const environment = new MockActivityEnvironment({ workflowExecution: run, workflowNamespace: 'default' });
  return environment.run(notify, input) as ReturnType<typeof notify>;
}

const counted = async (result: string) =>
  (await notificationsTotal.get()).values.find(
    (v) => v.labels.policy === 'nodes' && v.labels.event === 'NeedsAttention' && v.labels.result === result,
  )?.value ?? 0;

describe('the notify activity', () => {
  it("signs a cluster policy's notification with the key from KubeMedic's own namespace", async () => {
    // Given the signing Secret in KubeMedic's own namespace
    await createSigningSecret(own.name, 'cluster-key');
    const before = await counted('delivered');
    // When a cluster policy's run notifies a signed sink
    const answer = await notifyInActivity({
      sink: { type: 'Webhook', url: receiver.url('/cluster'), secretRef: { name: 'hooks', key: 'hmac' } },
      facts,
    });
    // Then it was delivered, signed with that key, naming the run and linking to it
    assert.equal(answer.status, 200);
    const request = receiver.requests.find((r) => r.path === '/cluster')!;
    assert.ok(signedWith('cluster-key', request));
    assert.equal(request.headers['x-kubemedic-delivery'], `${run.workflowId}/run-1/NeedsAttention`);
    const body = JSON.parse(request.raw) as RemediationNotification;
    assert.deepEqual(body.policy, { kind: 'ClusterRemediationPolicy', name: 'nodes' });
    assert.equal(
      body.webUiUrl,
      `http://ui.example:8233/namespaces/default/workflows/${encodeURIComponent(run.workflowId)}/run-1/history`,
    );
    // And it is counted
    assert.equal(await counted('delivered'), before + 1);
  });

  it("reads a namespaced policy's key as the policy's ServiceAccount, and says so when it may not", async () => {
    // Given a tenant's signing Secret, a ServiceAccount that may read it and one that may not
    await createSigningSecret(tenant.name, 'tenant-key');
    await givenServiceAccount(tenant.name, 'notifier', [
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['hooks'], verbs: ['get'] },
    ]);
    await givenServiceAccount(tenant.name, 'scaler', [
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] },
    ]);
    const tenantFacts: NotifyInput['facts'] = {
      ...facts,
      policy: { ...facts.policy, kind: 'RemediationPolicy', namespace: tenant.name },
    };
    const signed = (path: string) => ({
      type: 'Webhook' as const,
      url: receiver.url(path),
      secretRef: { name: 'hooks', key: 'hmac' },
    });
    // When its policy acts as the ServiceAccount that may read it, then the request is signed with its key
    await notifyInActivity({ sink: signed('/tenant'), facts: tenantFacts, serviceAccountName: 'notifier' });
    const request = receiver.requests.find((r) => r.path === '/tenant')!;
    assert.ok(signedWith('tenant-key', request));
    // When it acts as one that may not (KubeMedic itself could), then nothing is sent, for good, saying who may not read what
    const unreadable = (message: string) => (error: unknown) =>
      error instanceof ApplicationFailure &&
      error.type === 'SecretUnreadable' &&
      error.nonRetryable &&
      error.message === message;
    await assert.rejects(
      notifyInActivity({ sink: signed('/forbidden'), facts: tenantFacts, serviceAccountName: 'scaler' }),
      unreadable(
        `ServiceAccount ${tenant.name}/scaler may not get Secret ${tenant.name}/hooks for the notification signature (grant it get on that Secret)`,
      ),
    );
    // And a policy that names no ServiceAccount (admitted before the CRD required one) is told why
    await assert.rejects(
      notifyInActivity({ sink: signed('/nobody'), facts: tenantFacts }),
      unreadable(
        `Secret ${tenant.name}/hooks is read as the policy's ServiceAccount, and the policy names none (spec.serviceAccountName)`,
      ),
    );
    assert.ok(!receiver.requests.some((r) => r.path === '/forbidden' || r.path === '/nobody'));
  });

  it('does not retry what retrying cannot fix: a missing Secret, a 4xx answer', async () => {
    // Given a sink whose Secret does not exist, when it notifies, then it fails for good, saying which Secret
    await assert.rejects(
      notifyInActivity({
        sink: { type: 'Webhook', url: receiver.url('/unsigned'), secretRef: { name: 'absent', key: 'hmac' } },
        facts,
      }),
      (error: unknown) =>
        error instanceof ApplicationFailure &&
        error.type === 'SecretMissing' &&
        error.nonRetryable &&
        error.message === `Secret ${own.name}/absent for the notification signature does not exist`,
    );
    // Given a sink that answers 404, when it notifies, then it fails for good and the failure is counted
    receiver.failNext('/gone', 1, 404);
    const before = await counted('failed');
    await assert.rejects(
      notifyInActivity({ sink: { type: 'Slack', url: receiver.url('/gone') }, facts }),
      (error: unknown) =>
        error instanceof ApplicationFailure && error.type === 'NotificationRefused' && error.nonRetryable,
    );
    assert.equal(await counted('failed'), before + 1);
    // But a 500 is worth a retry: an ordinary (retryable) failure
    receiver.failNext('/busy', 1);
    await assert.rejects(
      notifyInActivity({ sink: { type: 'Slack', url: receiver.url('/busy') }, facts }),
      (error: unknown) => !(error instanceof ApplicationFailure) && /answered 500/.test(String(error)),
    );
  });

  it("refuses a sink inside the worker's network position before sending, for good", async () => {
    const refused = (address: RegExp) => (error: unknown) =>
      error instanceof ApplicationFailure &&
      error.type === 'NotificationRefused' &&
      error.nonRetryable &&
      address.test(error.message);
    const before = receiver.requests.length;
    // Given the worker's defaults, when a sink on loopback or the metadata address is notified
    await assert.rejects(
      notifyInActivity({ sink: { type: 'Webhook', url: receiver.url('/loopback') }, facts }, {}),
      refused(/127\.0\.0\.1 is a loopback address/),
    );
    await assert.rejects(
      notifyInActivity(
        { sink: { type: 'Slack', url: 'http://169.254.169.254/latest/meta-data/' }, facts },
        {},
      ),
      refused(/169\.254\.169\.254 is a link-local, metadata/),
    );
    // And a namespaced policy's sink whose host the operator does not allow
    await assert.rejects(
      notifyInActivity(
        {
          sink: { type: 'Webhook', url: receiver.url('/elsewhere') },
          facts: { ...facts, policy: { ...facts.policy, kind: 'RemediationPolicy', namespace: tenant.name } },
        },
        { allowLoopback: true, allowHosts: ['hooks.example.com'] },
      ),
      refused(/127\.0\.0\.1 is not among the hosts the operator allows/),
    );
    // Then nothing reached the receiver
    assert.equal(receiver.requests.length, before);
  });
});

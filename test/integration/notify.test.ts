/**
 * The notify activity against a real API server (the sinks' Secrets) and a real HTTP receiver,
 * run in an activity context: where a sink's URL, routing key and signing key come from and as
 * whom they are read, each sink type's documented payload on the wire, the cluster's default
 * sinks, what is not worth a retry, and the outbound guard for every sink type.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notificationsTotal } from '../../activities/metrics.ts';
import { createNotificationActivities, type DefaultSink, type NotifyInput } from '../../activities/notify.ts';
import type { OutboundRules } from '../../activities/outbound.ts';
import type { RemediationNotification } from '../../activities/notify-payload.ts';
import type { NotificationSink } from '../../api/policy.ts';
import { ConfigurationError } from '../../domain/config/environment.ts';
import { workerConfig } from '../../domain/config/worker.ts';
import { renderChart } from '../support/chart.ts';
import { givenServiceAccount } from '../support/service-accounts.ts';
import { assertPagerDutyEvent, assertTeamsMessage } from '../support/sink-shapes.ts';
import { kubeconfig, useTestNamespace } from '../support/stack.ts';
import { createSinkSecret, signedWith, useWebhookReceiver } from '../support/webhook-receiver.ts';

// Plays KubeMedic's own namespace, where a cluster policy's and the default sinks' Secrets live.
const own = useTestNamespace('kmt-notify');
// A tenant's namespace, with a namespaced policy's Secrets.
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
/** A tenant's policy's facts (its namespace is named once the file's hooks have run). */
const tenantFacts = (): NotifyInput['facts'] => ({
  ...facts,
  policy: { ...facts.policy, kind: 'RemediationPolicy', namespace: tenant.name },
});

/** Our receiver listens on loopback, which the worker refuses unless told (as tests do) to allow it. */
function notifyInActivity(
  input: NotifyInput,
  outbound: OutboundRules = { allowLoopback: true },
  defaultSinks: DefaultSink[] = [],
) {
  const { notify } = createNotificationActivities({
    kubeconfig: kubeconfig(),
    ownNamespace: own.name,
    webUiUrl: 'http://ui.example:8233',
    outbound,
    defaultSinks,
  });
  const environment = new MockActivityEnvironment({ workflowExecution: run, workflowNamespace: 'default' });
  return environment.run(notify, input) as ReturnType<typeof notify>;
}

const urlIn = (secret: string): Pick<NotificationSink, 'urlSecretRef'> => ({
  urlSecretRef: { name: secret, key: 'url' },
});
const failedFor = (type: string, message: string | RegExp) => (error: unknown) =>
  error instanceof ApplicationFailure &&
  error.type === type &&
  error.nonRetryable &&
  (typeof message === 'string' ? error.message === message : message.test(error.message));

const counted = async (result: string) =>
  (await notificationsTotal.get()).values.find(
    (v) => v.labels.policy === 'nodes' && v.labels.event === 'NeedsAttention' && v.labels.result === result,
  )?.value ?? 0;

describe('the notify activity', () => {
  it("reads a cluster policy's URL and signing key from KubeMedic's own namespace, and signs", async () => {
    // Given the sink's Secret in KubeMedic's own namespace: its URL and its signing key
    await createSinkSecret(own.name, 'hooks', { url: receiver.url('/cluster'), hmac: 'cluster-key' });
    const before = await counted('delivered');
    // When a cluster policy's run notifies a signed sink
    const answer = await notifyInActivity({
      sink: { type: 'Webhook', ...urlIn('hooks'), secretRef: { name: 'hooks', key: 'hmac' } },
      facts,
    });
    // Then it was delivered to that URL, signed with that key, naming the run and linking to it
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

  it("reads a namespaced policy's Secrets as the policy's ServiceAccount, and says so when it may not", async () => {
    // Given a tenant's sink Secret, a ServiceAccount that may read it and one that may not
    await createSinkSecret(tenant.name, 'hooks', { url: receiver.url('/tenant'), hmac: 'tenant-key' });
    await givenServiceAccount(tenant.name, 'notifier', [
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['hooks'], verbs: ['get'] },
    ]);
    await givenServiceAccount(tenant.name, 'scaler', [
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] },
    ]);
    const signed: NotificationSink = {
      type: 'Webhook',
      ...urlIn('hooks'),
      secretRef: { name: 'hooks', key: 'hmac' },
    };
    // When its policy acts as the ServiceAccount that may read it, then the request goes to its URL, signed with its key
    await notifyInActivity({ sink: signed, facts: tenantFacts(), serviceAccountName: 'notifier' });
    const request = receiver.requests.find((r) => r.path === '/tenant')!;
    assert.ok(signedWith('tenant-key', request));
    const sent = receiver.requests.length;
    // When it acts as one that may not (KubeMedic itself could), then nothing is sent, for good, saying who may not read what
    await assert.rejects(
      notifyInActivity({ sink: signed, facts: tenantFacts(), serviceAccountName: 'scaler' }),
      failedFor(
        'SecretUnreadable',
        `ServiceAccount ${tenant.name}/scaler may not get Secret ${tenant.name}/hooks for the Webhook URL (grant it get on that Secret)`,
      ),
    );
    // And a policy that names no ServiceAccount (admitted before the CRD required one) is told why
    await assert.rejects(
      notifyInActivity({ sink: signed, facts: tenantFacts() }),
      failedFor(
        'SecretUnreadable',
        `Secret ${tenant.name}/hooks is read as the policy's ServiceAccount, and the policy names none (spec.serviceAccountName)`,
      ),
    );
    assert.equal(receiver.requests.length, sent);
  });

  it('fails for good, naming the Secret and key but never a value, when a Secret or key is missing', async () => {
    await createSinkSecret(own.name, 'half', { url: receiver.url('/half'), other: 'x' });
    await createSinkSecret(own.name, 'not-a-url', {
      url: 'hooks.example.com/T0/B0/s3cr3t-token',
      broken: 'https://[hooks.example.com/s3cr3t-token',
    });
    const sent = receiver.requests.length;
    await assert.rejects(
      notifyInActivity({ sink: { type: 'Slack', ...urlIn('absent') }, facts }),
      failedFor('SecretMissing', `Secret ${own.name}/absent for the Slack URL does not exist`),
    );
    await assert.rejects(
      notifyInActivity({
        sink: { type: 'Webhook', ...urlIn('half'), secretRef: { name: 'half', key: 'hmac' } },
        facts,
      }),
      failedFor('SecretMissing', `Secret ${own.name}/half has no key hmac for the notification signature`),
    );
    await assert.rejects(
      notifyInActivity({
        sink: { type: 'PagerDuty', routingKeySecretRef: { name: 'half', key: 'routingKey' } },
        facts,
      }),
      failedFor(
        'SecretMissing',
        `Secret ${own.name}/half has no key routingKey for the PagerDuty routing key`,
      ),
    );
    await assert.rejects(
      notifyInActivity({ sink: { type: 'MSTeams', ...urlIn('not-a-url') }, facts }),
      (error: unknown) =>
        failedFor(
          'SecretMissing',
          'the MSTeams URL in Secret key not-a-url/url is not an http(s) URL',
        )(error) && !String((error as Error).message).includes('s3cr3t'),
    );
    await assert.rejects(
      notifyInActivity({
        sink: { type: 'Slack', urlSecretRef: { name: 'not-a-url', key: 'broken' } },
        facts,
      }),
      (error: unknown) =>
        failedFor(
          'SecretMissing',
          'the Slack URL in Secret key not-a-url/broken is not an http(s) URL',
        )(error) && !String((error as Error).message).includes('s3cr3t'),
    );
    assert.equal(receiver.requests.length, sent);
  });

  it('does not retry a 4xx answer, and does retry a 500', async () => {
    await createSinkSecret(own.name, 'gone', { url: receiver.url('/gone') });
    await createSinkSecret(own.name, 'busy', { url: receiver.url('/busy') });
    receiver.failNext('/gone', 1, 404);
    const before = await counted('failed');
    await assert.rejects(
      notifyInActivity({ sink: { type: 'Slack', ...urlIn('gone') }, facts }),
      failedFor('NotificationRefused', /answered 404$/),
    );
    assert.equal(await counted('failed'), before + 1);
    receiver.failNext('/busy', 1);
    await assert.rejects(
      notifyInActivity({ sink: { type: 'Slack', ...urlIn('busy') }, facts }),
      (error: unknown) => !(error instanceof ApplicationFailure) && /answered 500/.test(String(error)),
    );
  });

  it("sends PagerDuty's Events API v2 event: routing key from the Secret, one dedup_key per run, resolve on success", async () => {
    // Given a PagerDuty sink whose routing key is in a Secret and whose events endpoint is our receiver
    const routingKey = 'R0UTINGKEY0123456789abcdefabcdef';
    await createSinkSecret(own.name, 'pagerduty', { routingKey: `${routingKey}\n` });
    const sink: NotificationSink = {
      type: 'PagerDuty',
      routingKeySecretRef: { name: 'pagerduty', key: 'routingKey' },
      eventsUrl: receiver.url('/v2/enqueue'),
    };
    // When the run needs a person, then succeeds
    await notifyInActivity({ sink, facts });
    await notifyInActivity({ sink, facts: { ...facts, event: 'Succeeded', outcome: 'Succeeded' } });
    // Then PagerDuty got a trigger and then a resolve, in its documented shape, with the same dedup_key
    const [trigger, resolve] = receiver.requests
      .filter((r) => r.path === '/v2/enqueue')
      .map((r) => JSON.parse(r.raw) as Record<string, unknown> & { payload?: Record<string, unknown> });
    assertPagerDutyEvent(trigger, routingKey);
    assertPagerDutyEvent(resolve, routingKey);
    assert.equal(trigger!.event_action, 'trigger');
    assert.equal(trigger!.payload!.severity, 'error');
    assert.match(
      String(trigger!.payload!.summary),
      /^KubeMedic needs attention: Node n1 \(policy nodes, cluster c1\): /,
    );
    assert.equal(resolve!.event_action, 'resolve');
    assert.equal(resolve!.dedup_key, trigger!.dedup_key);
    assert.equal(trigger!.dedup_key, `${run.workflowId}/run-1`);
  });

  it('sends Teams an Adaptive Card message, to the URL in the Secret', async () => {
    await createSinkSecret(own.name, 'teams', { url: receiver.url('/teams/webhookb2/abc') });
    await notifyInActivity({ sink: { type: 'MSTeams', ...urlIn('teams') }, facts });
    const request = receiver.requests.find((r) => r.path === '/teams/webhookb2/abc')!;
    assert.equal(request.headers['content-type'], 'application/json');
    const card = assertTeamsMessage(JSON.parse(request.raw));
    assert.ok(JSON.stringify(card.body).includes('Node n1 (policy nodes, cluster c1)'));
  });

  it("notifies a default sink by name, its Secret read from KubeMedic's own namespace as KubeMedic", async () => {
    // Given a default Slack sink of the operator's, and a tenant policy whose ServiceAccount reads nothing
    await createSinkSecret(own.name, 'default-slack', { url: receiver.url('/default-slack') });
    const defaults: DefaultSink[] = [{ name: 'oncall', type: 'Slack', ...urlIn('default-slack') }];
    // When a tenant's run notifies it, under an allowlist for tenants that does not name loopback
    await notifyInActivity(
      { defaultSink: 'oncall', facts: tenantFacts(), serviceAccountName: 'scaler' },
      { allowLoopback: true, allowHosts: ['hooks.example.com'] },
      defaults,
    );
    // Then it was delivered: the Secret is the operator's, and so is the host
    const request = receiver.requests.find((r) => r.path === '/default-slack')!;
    assert.match((JSON.parse(request.raw) as { text: string }).text, /needs attention: Node n1/);
    // And a name the worker does not know fails for good, saying so
    await assert.rejects(
      notifyInActivity({ defaultSink: 'gone', facts }, undefined, defaults),
      failedFor('NotificationRefused', /^the worker has no default sink gone/),
    );
  });

  it("refuses every sink type inside the worker's network position before sending, for good", async () => {
    await createSinkSecret(own.name, 'inside', {
      loopback: receiver.url('/loopback'),
      metadata: 'http://169.254.169.254/latest/meta-data/',
      routingKey: 'k',
    });
    await createSinkSecret(tenant.name, 'inside', { url: receiver.url('/elsewhere') });
    await givenServiceAccount(tenant.name, 'reader', [
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['inside'], verbs: ['get'] },
    ]);
    const refused = (address: RegExp) => failedFor('NotificationRefused', address);
    const before = receiver.requests.length;
    // Given the worker's defaults, when a sink of each type on loopback or the metadata address is notified
    const loopback = { name: 'inside', key: 'loopback' };
    const metadata = { name: 'inside', key: 'metadata' };
    for (const sink of [
      { type: 'Webhook', urlSecretRef: loopback },
      { type: 'Slack', urlSecretRef: loopback },
      { type: 'MSTeams', urlSecretRef: loopback },
      {
        type: 'PagerDuty',
        routingKeySecretRef: { name: 'inside', key: 'routingKey' },
        eventsUrl: receiver.url('/pd'),
      },
    ] as NotificationSink[]) {
      await assert.rejects(
        notifyInActivity({ sink, facts }, {}),
        refused(/127\.0\.0\.1 is a loopback address/),
      );
    }
    for (const sink of [
      { type: 'Slack', urlSecretRef: metadata },
      { type: 'MSTeams', urlSecretRef: metadata },
      {
        type: 'PagerDuty',
        routingKeySecretRef: { name: 'inside', key: 'routingKey' },
        eventsUrl: 'http://169.254.169.254/v2/enqueue',
      },
    ] as NotificationSink[]) {
      await assert.rejects(
        notifyInActivity({ sink, facts }, {}),
        refused(/169\.254\.169\.254 is a link-local, metadata/),
      );
    }
    // And a namespaced policy's sink whose host the operator does not allow
    await assert.rejects(
      notifyInActivity(
        { sink: { type: 'MSTeams', ...urlIn('inside') }, facts: tenantFacts(), serviceAccountName: 'reader' },
        { allowLoopback: true, allowHosts: ['hooks.example.com'] },
      ),
      refused(/127\.0\.0\.1 is not among the hosts the operator allows/),
    );
    // Then nothing reached the receiver
    assert.equal(receiver.requests.length, before);
  });
});

describe("the cluster's default sinks in the chart and the worker's configuration", () => {
  const oncall = {
    name: 'oncall',
    type: 'PagerDuty',
    routingKeySecretRef: { name: 'kubemedic-default-sinks', key: 'pagerduty-routing-key' },
    events: ['AwaitingApproval', 'Failed', 'Succeeded'],
  };
  const workerEnv = (values: Record<string, unknown>) => {
    const objects = renderChart({ release: 'km', namespace: 'ops', values });
    const worker = objects.find(
      (o) => o.kind === 'Deployment' && o.metadata?.name === 'km-kubemedic-worker',
    ) as V1Deployment | undefined;
    assert.ok(worker, 'the chart renders the worker Deployment');
    return Object.fromEntries(worker.spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, e.value]));
  };

  it('renders notifications.defaults as the JSON the worker reads back as it was written', () => {
    const env = workerEnv({ notifications: { defaults: [oncall] } });
    assert.deepEqual(workerConfig(env).activities.defaultSinks, [oncall]);
    // And none by default
    assert.equal(workerEnv({}).KUBEMEDIC_DEFAULT_NOTIFICATIONS, undefined);
  });

  it('refuses at start defaults it could not use, naming the variable and what it allows', () => {
    const base = workerEnv({});
    for (const bad of [
      'not json',
      JSON.stringify([{ ...oncall, routingKeySecretRef: undefined }]),
      JSON.stringify([oncall, oncall]),
      JSON.stringify([{ ...oncall, type: 'Slack', urlSecretRef: { name: 'x', key: 'url' } }]),
    ]) {
      assert.throws(
        () => workerConfig({ ...base, KUBEMEDIC_DEFAULT_NOTIFICATIONS: bad }),
        (error: unknown) =>
          error instanceof ConfigurationError &&
          /^invalid configuration: KUBEMEDIC_DEFAULT_NOTIFICATIONS=.* is not allowed: a JSON list of at most 10 sinks/.test(
            error.message,
          ),
        bad,
      );
    }
  });
});

/**
 * Notifications, NeedsAttention and the Events of each phase, on the real stack: a webhook
 * receiver in this process plays the team's endpoint; runs are started as the watcher starts
 * them, so each scenario controls its own timing.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import type { RemediationNotification } from '../../activities/notify-payload.ts';
import { signatureHeader } from '../../activities/notify-signature.ts';
import { statusQuery } from '../../domain/messages.ts';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { chartIdentities } from '../support/chart.ts';
import { kubemedic } from '../support/cli.ts';
import { conditions, type PolicySpecInput } from '../support/policy-builder.ts';
import { useScenario } from '../support/scenario.ts';
import { assertPagerDutyEvent, assertTeamsMessage } from '../support/sink-shapes.ts';
import { eventually, kubeconfig } from '../support/stack.ts';
import { readDeployment } from '../support/workloads.ts';
import { createSinkSecret, signedAt, signedWith, useWebhookReceiver } from '../support/webhook-receiver.ts';
import { givenServiceAccount } from '../support/service-accounts.ts';

/** The cluster's default sink of this file's worker: its Secret in KubeMedic's own namespace. */
const defaultsSecret = `kmn-defaults-${randomBytes(3).toString('hex')}`;
const { namespace, medic, scenario } = useScenario('kmn', {
  workerOptions: {
    defaultSinks: [{ name: 'oncall', type: 'Webhook', urlSecretRef: { name: defaultsSecret, key: 'url' } }],
  },
});
const receiver = useWebhookReceiver();
const signingKey = 'team-shared-secret';
/** Every policy here acts as this ServiceAccount: it may scale, and read the sinks' Secrets. */
const serviceAccountName = 'notifier';

/**
 * The team's ServiceAccount and the default sink's Secret, made once, by the first test that
 * needs them (node:test runs this file's top-level hooks beside useScenario's, not after them).
 */
let setUp: Promise<void> | undefined;
const given = () =>
  (setUp ??= (async () => {
    await givenServiceAccount(namespace.name, serviceAccountName, [
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
    ]);
    await createSinkSecret((await chartIdentities()).namespace, defaultsSecret, {
      url: receiver.url('/defaults'),
    });
  })());
after(async () => {
  const own = (await chartIdentities()).namespace;
  await kubeconfig()
    .makeApiClient(CoreV1Api)
    .deleteNamespacedSecret({ name: defaultsSecret, namespace: own })
    .catch(() => undefined);
});

/**
 * The trigger holds only while the Deployment is unavailable (never, here: runs are started by
 * the test); `alwaysHolds` as a verification condition never lets verification pass.
 */
const alwaysHolds = conditions.deploymentUnavailable('always', 0);

type Sink = NonNullable<PolicySpecInput['notifications']>[number];
/** A sink of `type` whose URL (the receiver's `path`) is in a Secret of the test's namespace. */
async function sinkAt(
  path: string,
  extra: Partial<Sink> = {},
  type: Sink['type'] = 'Webhook',
): Promise<Sink> {
  const secret = `sink${path.replace(/[^a-z0-9]+/g, '-')}`.replace(/-+$/, '');
  await createSinkSecret(namespace.name, secret, { url: receiver.url(path) });
  return { type, urlSecretRef: { name: secret, key: 'url' }, ...extra };
}

/** The delivered (200) notifications a path received, parsed. */
const delivered = (path: string) =>
  receiver.requests
    .filter((r) => r.path === path && r.status === 200)
    .map((r) => ({ ...r, body: JSON.parse(r.raw) as RemediationNotification }));

const deliveredEvent = (path: string, event: string) =>
  eventually(`a ${event} notification at ${path}`, async () =>
    delivered(path).find((r) => r.body.event === event),
  );

/**
 * A run's whole history as text, every payload (inputs, results, failures' details) decoded
 * from its base64 bytes: what anyone who can read the history can read.
 */
function historyText(history: Parameters<typeof historyToJSON>[0]): string {
  const json = historyToJSON(history);
  const payloads: string[] = [];
  JSON.parse(json, (key, value: unknown) => {
    const payload = value as { data?: unknown; metadata?: unknown } | null;
    if (typeof payload?.data === 'string' && payload.metadata !== undefined)
      payloads.push(Buffer.from(payload.data, 'base64').toString('utf8'));
    return value;
  });
  assert.ok(payloads.length > 0, 'the history has payloads');
  return [json, ...payloads].join('\n');
}

/** The events the cluster's default sink heard about the target `name`. */
const defaultSinkHeard = (name: string) =>
  delivered('/defaults')
    .filter((r) => r.body.target.name === name)
    .map((r) => r.body.event);

/** Reasons of the Events about one object, with how many Events carry each. */
async function eventReasons(kind: string, name: string): Promise<Record<string, number>> {
  const { items } = await kubeconfig()
    .makeApiClient(CoreV1Api)
    .listNamespacedEvent({
      namespace: namespace.name,
      fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}`,
    });
  const counts: Record<string, number> = {};
  for (const event of items.filter((e) => e.source?.component === 'kubemedic')) {
    counts[event.reason!] = (counts[event.reason!] ?? 0) + (event.count ?? 1);
  }
  return counts;
}

/** Every phase once, on the policy and on the target (phase Events go out beside the run). */
async function assertPhaseEvents(policy: string, target: string, expected: Record<string, number>) {
  for (const kind of ['RemediationPolicy', 'Deployment']) {
    const name = kind === 'Deployment' ? target : policy;
    await eventually(`the Events of ${kind} ${name}`, async () => {
      const reasons = await eventReasons(kind, name);
      return isDeepStrictEqual(reasons, expected) ? true : undefined;
    }).catch(async (error: unknown) => {
      assert.deepEqual(await eventReasons(kind, name), expected, String(error));
    });
  }
}

describe('notifications', () => {
  it(
    'sends a signed AwaitingApproval with the exact approve command, then Succeeded, to Webhook, Slack, Teams and PagerDuty, and no secret reaches the history',
    { timeout: 150_000 },
    async (t) => {
      const s = scenario(t);
      await given();
      // Given the team's Secrets: a signing key, a Slack URL that carries its token, a Teams URL
      // and a PagerDuty routing key (PagerDuty's endpoint played by the receiver)
      const slackToken = `T0/B0/${randomBytes(12).toString('hex')}`;
      const routingKey = randomBytes(16).toString('hex');
      await createSinkSecret(namespace.name, 'team', {
        url: receiver.url('/team'),
        hmac: signingKey,
        slack: receiver.url(`/slack/${slackToken}`),
        routingKey,
      });
      const teams = await sinkAt('/teams', { events: ['AwaitingApproval', 'Succeeded'] }, 'MSTeams');
      // And a policy acting as the team's ServiceAccount that needs approval, with a Webhook sink
      // that signs, a Slack sink that hears only AwaitingApproval, a Teams and a PagerDuty sink
      await s.given.scalePolicy('approve-me', {
        serviceAccountName,
        approval: { required: true, timeout: '10m' },
        notifications: [
          {
            type: 'Webhook',
            urlSecretRef: { name: 'team', key: 'url' },
            secretRef: { name: 'team', key: 'hmac' },
          },
          { type: 'Slack', urlSecretRef: { name: 'team', key: 'slack' }, events: ['AwaitingApproval'] },
          teams,
          {
            type: 'PagerDuty',
            routingKeySecretRef: { name: 'team', key: 'routingKey' },
            eventsUrl: receiver.url('/pagerduty/v2/enqueue'),
          },
        ],
      });
      // When a run awaits approval
      const handle = await s.when.runStarts();
      const awaiting = await deliveredEvent('/team', 'AwaitingApproval');
      // Then the payload names the run and carries the exact approve command
      const command = `kubemedic approve ${handle.workflowId} --cluster ${medic.cluster}`;
      assert.equal(awaiting.body.approveCommand, command);
      assert.equal(awaiting.body.apiVersion, 'kubemedic.io/v1');
      assert.equal(awaiting.body.kind, 'RemediationNotification');
      assert.equal(awaiting.body.workflowId, handle.workflowId);
      assert.equal(awaiting.body.cluster, medic.cluster);
      assert.deepEqual(awaiting.body.target, {
        kind: 'Deployment',
        namespace: namespace.name,
        name: 'approve-me',
      });
      assert.equal(awaiting.body.phase, 'AwaitingApproval');
      // And its HMAC over timestamp and raw body is valid with the Secret's key (and not with another)
      const timestamp = signedAt(awaiting);
      assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 600, `timestamp ${timestamp} is recent`);
      assert.equal(signedWith(signingKey, awaiting), true);
      assert.equal(signedWith('another key', awaiting), false);
      // And the Slack sink got a Slack message at its secret URL with the same command, unsigned
      const slack = await eventually('the Slack message', async () =>
        receiver.requests.find((r) => r.path === `/slack/${slackToken}`),
      );
      const message = JSON.parse(slack.raw) as { text: string; blocks: unknown[] };
      assert.match(message.text, /awaits approval: Deployment .*approve-me/);
      assert.ok(JSON.stringify(message.blocks).includes(command));
      assert.equal(slack.headers[signatureHeader.toLowerCase()], undefined);
      // And Teams an Adaptive Card with the command, and PagerDuty a trigger with the routing key
      const card = await eventually('the Teams card', async () =>
        receiver.requests.find((r) => r.path === '/teams'),
      );
      assert.ok(JSON.stringify(assertTeamsMessage(JSON.parse(card.raw)).body).includes(command));
      const pagerDuty = () =>
        receiver.requests
          .filter((r) => r.path === '/pagerduty/v2/enqueue')
          .map((r) => JSON.parse(r.raw) as { event_action: string; dedup_key: string });
      await eventually('the PagerDuty trigger', async () => pagerDuty()[0]);
      assertPagerDutyEvent(pagerDuty()[0], routingKey);
      assert.equal(pagerDuty()[0]!.event_action, 'trigger');

      // When a person runs the approve command from the notification, as it is
      const [program, ...args] = command.split(' ');
      assert.equal(program, 'kubemedic');
      // (through Temporal: no watcher here relays a RemediationDecision)
      const approved = await kubemedic([...args, '--via-temporal', '--by', 'alice']);
      assert.equal(approved.code, 0, approved.stderr);
      // Then the run succeeds, approved by them, and the Webhook sink hears Succeeded (Slack does not)
      const result = await s.then.runEndsAs('Succeeded');
      assert.equal(result.approval?.by, 'alice');
      const succeeded = await deliveredEvent('/team', 'Succeeded');
      assert.equal(succeeded.body.outcome, 'Succeeded');
      assert.equal(succeeded.body.reason, result.reason);
      assert.equal(succeeded.body.approveCommand, undefined);
      assert.equal(signedWith(signingKey, succeeded), true);
      assert.equal(receiver.requests.filter((r) => r.path === `/slack/${slackToken}`).length, 1);
      // And PagerDuty's alert for the run is resolved by the same dedup_key
      assert.deepEqual(
        pagerDuty().map((e) => e.event_action),
        ['trigger', 'resolve'],
      );
      assert.equal(pagerDuty()[1]!.dedup_key, pagerDuty()[0]!.dedup_key);
      // And every delivery is in the run's status, each sink named by its Secret
      assert.deepEqual(result.notifications?.map((n) => `${n.sink} ${n.event} ${n.delivered}`).sort(), [
        'MSTeams (Secret sink-teams) AwaitingApproval true',
        'MSTeams (Secret sink-teams) Succeeded true',
        'PagerDuty (Secret team) AwaitingApproval true',
        'PagerDuty (Secret team) Succeeded true',
        'Slack (Secret team) AwaitingApproval true',
        'Webhook (Secret team) AwaitingApproval true',
        'Webhook (Secret team) Succeeded true',
        'default sink oncall AwaitingApproval true',
        'default sink oncall Succeeded true',
      ]);
      // And none of the Secrets' values is anywhere in the run's history: not in the workflow's
      // input, not in an activity's input, result or failure
      const history = historyText(await handle.fetchHistory());
      assert.ok(history.includes('"urlSecretRef"'), 'the history holds the sinks, by their Secrets');
      for (const [what, value] of Object.entries({ slackToken, routingKey, signingKey })) {
        assert.ok(!history.includes(value), `${what} is in the run's history`);
      }
      assert.ok(!history.includes(receiver.url('/team')), "the Webhook sink's URL is in the run's history");
      // And each phase left one Event on the policy and one on the target
      await assertPhaseEvents('approve-me', 'approve-me', {
        AwaitingApproval: 1,
        BackingUp: 1,
        Executing: 1,
        Verifying: 1,
        RemediationSucceeded: 1,
      });
      await s.then.historyRecordedAs('notified-approved-succeeded');
    },
  );

  it(
    'resolves the PagerDuty alert of a run a person rejects, though a rejected run is not notified',
    { timeout: 150_000 },
    async (t) => {
      const s = scenario(t);
      await given();
      // Given a policy that needs approval and pages PagerDuty (the receiver plays its endpoint)
      const routingKey = randomBytes(16).toString('hex');
      await createSinkSecret(namespace.name, 'pd-reject', { routingKey });
      await s.given.scalePolicy('reject-me', {
        serviceAccountName,
        approval: { required: true, timeout: '10m' },
        notifications: [
          {
            type: 'PagerDuty',
            routingKeySecretRef: { name: 'pd-reject', key: 'routingKey' },
            eventsUrl: receiver.url('/pd-reject/v2/enqueue'),
          },
        ],
      });
      const events = () =>
        receiver.requests
          .filter((r) => r.path === '/pd-reject/v2/enqueue')
          .map((r) => JSON.parse(r.raw) as { event_action: string; dedup_key: string });
      // When a run awaits approval, PagerDuty is paged
      const handle = await s.when.runStarts();
      await eventually('the PagerDuty trigger', async () => events()[0]);
      // And a person rejects it
      const rejected = await kubemedic([
        'reject',
        handle.workflowId,
        '--cluster',
        medic.cluster,
        '--via-temporal',
        '--by',
        'bob',
      ]);
      assert.equal(rejected.code, 0, rejected.stderr);
      // Then the run ends Rejected and the alert it opened is resolved by the same dedup_key
      await s.then.runEndsAs('Rejected');
      await eventually('the PagerDuty resolve', async () => events()[1]);
      assert.deepEqual(
        events().map((e) => e.event_action),
        ['trigger', 'resolve'],
      );
      for (const event of events()) assertPagerDutyEvent(event, routingKey);
      assert.equal(events()[1]!.dedup_key, events()[0]!.dedup_key);
    },
  );

  it(
    'retries a sink that answers 500 for a while, and the run rolls back all the same',
    { timeout: 120_000 },
    async (t) => {
      const s = scenario(t);
      await given();
      // Given a policy whose verification always fails, and a sink that fails its first 2 requests
      receiver.failNext('/flaky', 2);
      await s.given.scalePolicy('roll-me-back', {
        serviceAccountName,
        verification: { settle: '1s', conditions: [alwaysHolds] },
        notifications: [await sinkAt('/flaky')],
      });
      // When it runs
      await s.when.runStarts();
      // Then it is rolled back, and the RolledBack notification arrived on the third attempt
      const result = await s.then.runEndsAs('RolledBack');
      const rolledBack = await deliveredEvent('/flaky', 'RolledBack');
      assert.equal(rolledBack.body.outcome, 'RolledBack');
      assert.equal(rolledBack.body.reason, result.reason);
      const attempts = receiver.requests.filter((r) => r.path === '/flaky');
      assert.deepEqual(
        attempts.map((r) => [r.status, (JSON.parse(r.raw) as RemediationNotification).event]),
        [
          [500, 'RolledBack'],
          [500, 'RolledBack'],
          [200, 'RolledBack'],
        ],
      );
      await s.then.replicasAre(2);
      // And the cluster's default sink heard of it too, once
      assert.deepEqual(defaultSinkHeard('roll-me-back'), ['RolledBack']);
      // And each phase left one Event, the rollback included
      await assertPhaseEvents('roll-me-back', 'roll-me-back', {
        BackingUp: 1,
        Executing: 1,
        Verifying: 1,
        RollingBack: 1,
        RemediationRolledBack: 1,
      });
      await s.then.historyRecordedAs('notified-rolled-back-after-retries');
    },
  );

  it(
    'sends RollbackConflict when someone changed the target, then Failed',
    { timeout: 120_000 },
    async (t) => {
      const s = scenario(t);
      await given();
      // Given a run whose verification will fail, with a sink for conflicts and failures only
      // (and opts out of the cluster's default sinks)
      await s.given.scalePolicy('contested', {
        serviceAccountName,
        defaultNotifications: false,
        verification: { settle: '4s', conditions: [alwaysHolds] },
        notifications: [await sinkAt('/conflicts', { events: ['RollbackConflict', 'Failed'] })],
      });
      await s.when.runStarts();
      await s.then.runReaches('Verifying');
      // When a person sets the replicas to 7 before the rollback
      await s.when.someoneSetsReplicas(7);
      // Then the run fails, and the sink hears of the conflict (with what was left alone) and of the failure
      const result = await s.then.runEndsAs('Failed');
      const conflict = await deliveredEvent('/conflicts', 'RollbackConflict');
      assert.equal(conflict.body.phase, 'RollingBack');
      assert.match(conflict.body.reason, /\/spec\/replicas is 7, not the 3 KubeMedic wrote/);
      const failed = await deliveredEvent('/conflicts', 'Failed');
      assert.equal(failed.body.reason, result.reason);
      assert.deepEqual(
        delivered('/conflicts')
          .map((r) => r.body.event)
          .sort(),
        ['Failed', 'RollbackConflict'],
      );
      await s.then.replicasAre(7);
      // And the default sink, which hears every other policy's runs, heard nothing of this one
      assert.deepEqual(defaultSinkHeard('contested'), []);
    },
  );

  it(
    'sends Skipped; a sink that is down for good or whose Secret is missing does not fail the run, and is said in status, Event and history',
    { timeout: 150_000 },
    async (t) => {
      const s = scenario(t);
      await given();
      // Given a policy with a sink nobody listens on (a closed port) and one that works
      await createSinkSecret(namespace.name, 'nobody', { url: 'http://127.0.0.1:1/nobody' });
      await s.given.scalePolicy('gone-soon', {
        serviceAccountName,
        notifications: [
          { type: 'Webhook', urlSecretRef: { name: 'nobody', key: 'url' } },
          { type: 'Slack', urlSecretRef: { name: 'absent', key: 'url' } },
          await sinkAt('/skips'),
        ],
      });
      // When its target is deleted and a run starts
      await s.when.deploymentDeleted();
      await eventually('the Deployment gone', async () =>
        readDeployment(namespace.name, 'gone-soon').then(
          () => undefined,
          () => true,
        ),
      );
      await s.when.runStarts();
      // Then the run ends Skipped with its reason, the working sink heard of it, and the dead one changed nothing
      const result = await s.then.runEndsAs('Skipped', /^TargetGone: /);
      const skipped = await deliveredEvent('/skips', 'Skipped');
      assert.equal(skipped.body.reason, result.reason);
      // And the run's status says which sinks did not hear of it, and why (the Secret by name)
      const failed = result.notifications?.filter((n) => !n.delivered);
      assert.deepEqual(failed?.map((n) => [n.sink, n.event]).sort(), [
        ['Slack (Secret absent)', 'Skipped'],
        ['Webhook (Secret nobody)', 'Skipped'],
      ]);
      const missing = `Secret ${namespace.name}/absent for the Slack URL does not exist`;
      assert.equal(failed?.find((n) => n.sink === 'Slack (Secret absent)')?.reason, missing);
      assert.match(
        failed?.find((n) => n.sink === 'Webhook (Secret nobody)')?.reason ?? '',
        /^notification to 127\.0\.0\.1:1 was not delivered/,
      );
      // And so do a Warning Event on the policy and the run's history
      const events = await kubeconfig().makeApiClient(CoreV1Api).listNamespacedEvent({
        namespace: namespace.name,
        fieldSelector:
          'involvedObject.kind=RemediationPolicy,involvedObject.name=gone-soon,reason=NotificationFailed',
      });
      assert.deepEqual(
        events.items.map((e) => [e.type, e.message]).filter(([, m]) => m?.startsWith('Slack')),
        [
          [
            'Warning',
            `Slack (Secret absent) did not hear of Skipped for Deployment ${namespace.name}/gone-soon: ${missing}`,
          ],
        ],
      );
      assert.equal(events.items.length, 2);
      assert.ok(historyText(await s.run.fetchHistory()).includes(missing));
    },
  );
});

describe('NeedsAttention', () => {
  it(
    'hands the target to a person after its attempts: one notification, an Event, the policy status, nothing touched',
    { timeout: 150_000 },
    async (t) => {
      const s = scenario(t);
      await given();
      // Given a policy allowing one attempt per target per 40 seconds, and a first run that acted
      await s.given.scalePolicy('attention', {
        serviceAccountName,
        limits: { maxAttemptsPerTarget: 1, attemptsWindow: '40s' },
        notifications: [await sinkAt('/attention')],
      });
      await s.when.runStarts();
      await s.then.runEndsAs('Succeeded');
      const before = await readDeployment(namespace.name, 'attention');

      // When the target fires again within the window
      const handle = await s.when.runStarts();
      // Then the run ends NeedsAttention, with the reason and until when
      const status = await eventually('the NeedsAttention outcome', async () => {
        const current = await handle.query(statusQuery);
        return current.outcome ? current : undefined;
      });
      assert.equal(status.outcome, 'NeedsAttention');
      assert.match(
        status.reason ?? '',
        /^needs-attention: 1 attempts on this target within the window; the limit is 1: a person should look; no automatic action on this target until \d{4}-/,
      );
      // And people are told, and the policy and the target say so
      const notified = await deliveredEvent('/attention', 'NeedsAttention');
      assert.equal(notified.body.outcome, 'NeedsAttention');
      await eventually('the NeedsAttention Events', async () =>
        (await eventReasons('Deployment', 'attention')).RemediationNeedsAttention === 1 &&
        (await eventReasons('RemediationPolicy', 'attention')).RemediationNeedsAttention === 1
          ? true
          : undefined,
      );
      await s.then.policyRecords('NeedsAttention');

      // And while the window lasts a new trigger joins the same held run: no new run, no second notification
      const heldRun = (await handle.describe()).runId;
      await s.when.runStarts();
      assert.equal((await handle.describe()).runId, heldRun);
      assert.equal((await handle.query(statusQuery)).phase, 'NeedsAttention');

      // And the run ends once the window has passed, having touched nothing
      const result = await s.then.runEndsAs('NeedsAttention');
      assert.deepEqual(result.steps, []);
      const after = await readDeployment(namespace.name, 'attention');
      assert.equal(after.metadata?.generation, before.metadata?.generation);
      assert.equal(after.spec?.replicas, 3);
      assert.equal(delivered('/attention').filter((r) => r.body.event === 'NeedsAttention').length, 1);
      await s.then.historyRecordedAs('needs-attention');
    },
  );
});

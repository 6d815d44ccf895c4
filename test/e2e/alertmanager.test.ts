/**
 * Alertmanager as a trigger, end to end: a real Prometheus rule fires on a series the test
 * writes, the real Alertmanager posts it (with the receiver's bearer token, from the stack's
 * Secret stand-in) to the real policy watcher's webhook, and one remediation runs for the target
 * — however often the alert is notified again. A forged alert without the token, or with a
 * wrong one, is refused and starts nothing. With mutual TLS instead of the token, Alertmanager's
 * tls_config delivers and a client without the certificate is refused.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { alertKey } from '../../domain/conditions/alerts.ts';
import type { Condition } from '../../api/policy.ts';
import { readConditions, targetKey } from '../../domain/conditions/readings.ts';
import { readTargetState } from '../../domain/conditions/targets.ts';
import { ensureAlertReceiverToken } from '../../devstack/server-configs.ts';
import { environment } from '../../devstack/stack.ts';
import { remoteWrite } from '../../devstack/remote-write.ts';
import type { AlertmanagerPayload } from '../../policy-watcher/alert-payload.ts';
import { triggeredByAlertsMemo } from '../../policy-watcher/alert-triggers.ts';
import { alertReceiverRequests } from '../../policy-watcher/alert-requests.ts';
import { alertWebhookPath } from '../../policy-watcher/alert-webhook.ts';
import type { TargetRef } from '../../domain/run.ts';
import {
  type AlertmanagerAlert,
  alertmanagerAlerts,
  loadAlertRules,
  postToAlertmanager,
  routeAlertsTo,
} from '../support/alert-rules.ts';
import { readPolicy } from '../support/kubemedic.ts';
import { conditions, type ConditionInput, deploymentPolicy, scale } from '../support/policy-builder.ts';
import { postHttps, receiverCertificates } from '../support/receiver-tls.ts';
import { useScenario } from '../support/scenario.ts';
import { eventually, kubeconfig } from '../support/stack.ts';

const { namespace, medic, scenario } = useScenario('kam');
const run = randomBytes(4).toString('hex');
const alertname = `KubeMedicE2EHighErrorRate${run}`;
const signal = 'kubemedic_e2e_alert_signal';

let unloadRules: (() => Promise<void>) | undefined;
let unroute: (() => Promise<void>) | undefined;
let unrouteTls: (() => Promise<void>) | undefined;
after(() => Promise.all([unloadRules?.(), unroute?.(), unrouteTls?.()]));

/** The signal the rule watches, for the Deployment `deployment`. */
const errorRate = (deployment: string, value: number) =>
  remoteWrite([{ labels: { __name__: signal, run, namespace: namespace.name, deployment }, value }]);

/** The runs (open and closed) that ever had this workflow ID. */
async function runsOf(workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const execution of medic.client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    runs.push(execution.runId);
  }
  return runs;
}

/** What Alertmanager posts for a firing alert, rebuilt from its API's view of the alert. */
const notification = (alert: AlertmanagerAlert): AlertmanagerPayload => ({
  version: '4',
  groupKey: `{}:{alertname="${alert.labels.alertname}"}`,
  status: 'firing',
  receiver: 'kubemedic-watcher',
  groupLabels: { alertname: alert.labels.alertname! },
  commonLabels: alert.labels,
  externalURL: 'http://127.0.0.1:9093',
  alerts: [
    {
      status: 'firing',
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: alert.startsAt,
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: alert.generatorURL,
      fingerprint: alert.fingerprint,
    },
  ],
});

/** A notification nobody's Alertmanager sent: a firing alert about the test's `deployment`. */
const forgedNotification = (alertname: string, deployment: string) =>
  notification({
    fingerprint: `${alertname}-forged`,
    startsAt: new Date().toISOString(),
    endsAt: '0001-01-01T00:00:00Z',
    labels: { alertname, namespace: namespace.name, deployment },
    annotations: {},
    generatorURL: 'http://attacker.example/',
    status: { state: 'active' },
  });

/** A policy that scales `deployment` from 1 to 2 replicas while the alert `alertname` fires. */
const scaleOnAlert = (deployment: string, alertname: string) =>
  deploymentPolicy(deployment, {
    evaluationInterval: '1s',
    conditions: [{ ...highErrorRate, alertmanager: { matchers: [`alertname="${alertname}"`] } }],
    actions: [scale({ replicas: 2 })],
    verification: { settle: '1s', conditions: [conditions.deploymentUnavailable('available', 1)] },
  });

/** The token the stack's Alertmanager sends (devstack/server-configs.ts). */
const receiverToken = () => readFileSync(ensureAlertReceiverToken(), 'utf8').trim();

/** POSTs a notification to the watcher, as Alertmanager would, with `authorization` if given. */
const post = (url: string, payload: AlertmanagerPayload, authorization?: string): Promise<Response> =>
  fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(authorization === undefined ? {} : { Authorization: authorization }),
    },
    body: JSON.stringify(payload),
  });

/** How many requests the receiver has answered with `reason` (kubemedic_alert_receiver_requests_total). */
const answered = async (reason: string) =>
  (await alertReceiverRequests.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

/** Waits until the watcher has evaluated the policy twice more after `since`. */
async function evaluatedSince(policy: string, since: number): Promise<void> {
  let seen = 0;
  let last = '';
  await eventually('two more evaluations of the policy', async () => {
    const status = (await readPolicy('RemediationPolicy', { name: policy, namespace: namespace.name }))
      .status;
    const at = String(status?.lastEvaluationTime ?? '');
    if (at !== last && Date.parse(at) > since) {
      last = at;
      seen += 1;
    }
    return seen >= 2 ? true : undefined;
  });
}

const highErrorRate = {
  name: 'high-error-rate',
  source: 'Alertmanager',
  alertmanager: { matchers: [`alertname="${alertname}"`, 'severity=~"crit.*"'] },
  operator: '>',
  threshold: 0,
  for: '0s',
} satisfies ConditionInput;

/** The condition as the worker reads it when it verifies a run: from Alertmanager's API. */
async function workerReading(target: TargetRef) {
  const readings = await readConditions(
    [highErrorRate as Condition],
    [await readTargetState(kubeconfig(), target)],
    {
      kubeconfig: kubeconfig(),
      prometheusUrl: undefined,
      alertmanagerUrl: environment().ALERTMANAGER_URL,
      now: new Date(),
    },
  );
  return readings.get(targetKey(target))?.[0];
}

describe('a policy triggered by an Alertmanager alert', () => {
  it(
    'runs one remediation per firing of the real alert, however often it is notified',
    { timeout: 240_000 },
    async (t) => {
      const s = scenario(t);
      // Given a Deployment of 1 replica, and a policy that scales it to 2 on the alert
      await s.given.availableDeployment('web', 1);
      await s.given.policy(
        'scale-on-alert',
        deploymentPolicy('web', {
          evaluationInterval: '1s',
          conditions: [highErrorRate],
          actions: [scale({ replicas: 2 })],
          verification: { settle: '1s', conditions: [conditions.deploymentUnavailable('available', 1)] },
        }),
      );
      // And the watcher listening on a free port, where the stack's Alertmanager posts this test's alerts
      const watcher = await s.given.watcher({ alertWebhookPort: 0 });
      const webhookUrl = `http://127.0.0.1:${watcher.alertWebhookPort}${alertWebhookPath}`;
      assert.ok(watcher.alertWebhookPort, 'the watcher listens for alerts');
      unroute = await routeAlertsTo(run, webhookUrl);
      // And a real Prometheus rule on the error rate
      unloadRules = await loadAlertRules(`kubemedic-e2e-${run}`, [
        {
          alert: alertname,
          expr: `${signal}{run="${run}"} > 0.05`,
          labels: { severity: 'critical', kubemedic_test_receiver: run },
          annotations: { summary: 'the error rate is high' },
        },
      ]);
      const { workflowId } = s.run;

      // When the error rate of the Deployment goes above the rule's threshold
      await errorRate('web', 0.2);

      // Then the alert fires in Prometheus and reaches Alertmanager
      const [alert] = await eventually(
        'the alert to fire',
        async () => {
          const alerts = await alertmanagerAlerts(alertname);
          return alerts.length > 0 ? alerts : undefined;
        },
        120_000,
      );
      const seenInAlertmanager = Date.now();
      assert.equal(alert!.labels.deployment, 'web');
      // And the watcher starts a remediation for the Deployment
      const handle = s.run;
      const started = await eventually('the remediation to start', () => handle.describe(), 120_000);
      const firedAt = Date.parse(alert!.startsAt);
      console.log(
        `alert firing in Prometheus at ${alert!.startsAt}; seen in Alertmanager's API after ` +
          `${seenInAlertmanager - firedAt} ms; run started after ${started.startTime.getTime() - firedAt} ms`,
      );
      assert.deepEqual(started.memo?.[triggeredByAlertsMemo], [alertKey(alert!)]);
      // And the run scales it and succeeds
      await s.then.runEndsAs('Succeeded');
      await s.then.replicasAre(2);
      // And the worker, verifying, reads the same alert from Alertmanager's API
      const web: TargetRef = { kind: 'Deployment', namespace: namespace.name, name: 'web' };
      assert.deepEqual(await workerReading(web), { name: 'high-error-rate', value: 1, holds: true });

      // When, with the run over and the alert still firing, Alertmanager notifies it again
      const stillFiring = await alertmanagerAlerts(alertname);
      assert.equal(stillFiring[0]?.startsAt, alert!.startsAt, 'the same firing of the alert');
      const renotifiedAt = Date.now();
      for (let i = 0; i < 3; i += 1) {
        const answer = await post(webhookUrl, notification(stillFiring[0]!), `Bearer ${receiverToken()}`);
        assert.equal(answer.status, 200, await answer.text());
      }
      await evaluatedSince('scale-on-alert', renotifiedAt);

      // Then there was still exactly one run for the target
      assert.deepEqual(await runsOf(workflowId), [started.runId]);

      // When the error rate falls, and Alertmanager tells the watcher that the alert resolved
      await errorRate('web', 0);
      await eventually(
        'the watcher to hear that the alert resolved',
        async () => (watcher.firingAlerts.some((a) => a.labels.alertname === alertname) ? undefined : true),
        120_000,
      );
      assert.deepEqual(await workerReading(web), { name: 'high-error-rate', value: 0, holds: false });
      // And later the alert fires anew (a flap shorter than group_interval never reaches a
      // receiver: Alertmanager notifies changes of the set of firing alerts)
      await errorRate('web', 0.3);
      // Then the new firing starts a second run, which remembers that firing
      const second = await eventually(
        'a second run',
        async () => {
          const described = await handle.describe();
          return described.runId === started.runId ? undefined : described;
        },
        120_000,
      );
      const [refired] = await alertmanagerAlerts(alertname);
      assert.notEqual(refired?.startsAt, alert!.startsAt);
      assert.deepEqual(second.memo?.[triggeredByAlertsMemo], [alertKey(refired!)]);
      await medic.client.workflow.getHandle(workflowId, second.runId).result();
      assert.equal((await runsOf(workflowId)).length, 2);
    },
  );

  it(
    'refuses a forged alert without the token or with a wrong one, and starts no run',
    { timeout: 180_000 },
    async (t) => {
      const s = scenario(t);
      // Given a Deployment of 1 replica, and a policy that scales it to 2 on an alert
      const forgedName = `KubeMedicE2EForged${run}`;
      await s.given.availableDeployment('api', 1);
      await s.given.policy('scale-on-forged-alert', scaleOnAlert('api', forgedName));
      // And the watcher's receiver, which requires the stack's token
      const watcher = await s.given.watcher({ alertWebhookPort: 0 });
      const webhookUrl = `http://127.0.0.1:${watcher.alertWebhookPort}${alertWebhookPath}`;
      const forged = forgedNotification(forgedName, 'api');
      const counted = { missing: await answered('MissingToken'), wrong: await answered('WrongToken') };

      // When someone posts the alert without a token, and with a wrong one
      const postedAt = Date.now();
      const withoutToken = await post(webhookUrl, forged);
      const wrongToken = await post(webhookUrl, forged, `Bearer ${randomBytes(32).toString('base64url')}`);

      // Then both are refused 401 with the reason, and counted by reason
      assert.equal(withoutToken.status, 401);
      assert.match(await withoutToken.text(), /^MissingToken: /);
      assert.equal(wrongToken.status, 401);
      assert.match(await wrongToken.text(), /^WrongToken: /);
      assert.equal(await answered('MissingToken'), counted.missing + 1);
      assert.equal(await answered('WrongToken'), counted.wrong + 1);
      // And the watcher holds no such alert, and after two evaluations of the policy there is no run
      assert.ok(!watcher.firingAlerts.some((a) => a.labels.alertname === forgedName));
      await evaluatedSince('scale-on-forged-alert', postedAt);
      await s.then.noRun('a forged alert starts nothing');
      await s.then.replicasAre(1);

      // When the same alert comes with the token (as the stack's Alertmanager sends it)
      const genuine = await post(webhookUrl, forged, `Bearer ${receiverToken()}`);
      assert.equal(genuine.status, 200, await genuine.text());
      // Then it starts the run the forged posts would have started: the refusal is what stopped them
      await s.then.watcherStartsRun();
      await s.then.runEndsAs('Succeeded');
      await s.then.replicasAre(2);
    },
  );

  it(
    'over mutual TLS: the real Alertmanager delivers with its client certificate, a client without one is refused',
    { timeout: 180_000 },
    async (t) => {
      const s = scenario(t);
      // Given a CA that signs the watcher's serving certificate and Alertmanager's client certificate
      const tls = receiverCertificates();
      // And a Deployment of 1 replica, and a policy that scales it to 2 on an alert
      const tlsAlert = `KubeMedicE2ETls${run}`;
      await s.given.availableDeployment('tls', 1);
      await s.given.policy('scale-on-tls-alert', scaleOnAlert('tls', tlsAlert));
      // And the watcher's receiver on HTTPS, wanting a client certificate of that CA
      const watcher = await s.given.watcher({
        alertWebhookPort: 0,
        alertReceiverAuth: {
          mode: 'mtls',
          certFile: tls.server.cert,
          keyFile: tls.server.key,
          clientCaFile: tls.ca.cert,
        },
      });
      const webhookUrl = `https://127.0.0.1:${watcher.alertWebhookPort}${alertWebhookPath}`;
      // And the stack's Alertmanager routing this test's alerts there with its tls_config
      const receiver = `${run}-tls`;
      unrouteTls = await routeAlertsTo(receiver, webhookUrl, {
        tls_config: {
          ca_file: tls.ca.cert,
          cert_file: tls.alertmanager.cert,
          key_file: tls.alertmanager.key,
        },
      });

      // When a client without a client certificate posts the alert
      const postedAt = Date.now();
      const refused = await postHttps(
        webhookUrl,
        JSON.stringify(forgedNotification(tlsAlert, 'tls')),
        tls.ca,
      );
      // Then it is refused, and after two evaluations there is no run
      assert.equal(refused.status, 401);
      assert.match(refused.text, /^NoClientCertificate: /);
      await evaluatedSince('scale-on-tls-alert', postedAt);
      await s.then.noRun('a post without the client certificate starts nothing');

      // When the alert fires in Alertmanager (posted to its API, as Prometheus posts it)
      await postToAlertmanager([
        {
          labels: {
            alertname: tlsAlert,
            namespace: namespace.name,
            deployment: 'tls',
            kubemedic_test_receiver: receiver,
          },
          endsAt: new Date(Date.now() + 120_000).toISOString(),
        },
      ]);
      // Then Alertmanager delivers it over mutual TLS, and the run starts and succeeds
      await s.then.watcherStartsRun(120_000);
      await s.then.runEndsAs('Succeeded');
      await s.then.replicasAre(2);
    },
  );
});

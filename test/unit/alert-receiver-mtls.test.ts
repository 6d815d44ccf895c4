/**
 * The watcher's Alertmanager receiver with mutual TLS instead of the token: it serves HTTPS and
 * lets in only a client certificate signed by the CA it is given (Alertmanager's
 * http_config.tls_config); a request without one, or with one of another CA, is answered 401
 * with the reason, counted, and keeps nothing. Certificates made with openssl (devstack/pki.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { alertReceiverRequests } from '../../policy-watcher/alert-requests.ts';
import { FiringAlerts } from '../../policy-watcher/alert-store.ts';
import { type AlertWebhook, startAlertWebhook } from '../../policy-watcher/alert-webhook.ts';
import { postHttps, type ReceiverCertificates, receiverCertificates } from '../support/receiver-tls.ts';

const payload = JSON.stringify({
  version: '4',
  groupKey: '{}:{alertname="HighErrorRate"}',
  status: 'firing',
  receiver: 'kubemedic',
  groupLabels: {},
  commonLabels: {},
  externalURL: 'http://alertmanager',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'HighErrorRate' },
      annotations: {},
      startsAt: '2026-01-01T00:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus',
      fingerprint: 'f1',
    },
  ],
});

const counted = async (reason: string) =>
  (await alertReceiverRequests.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

describe('the alert receiver with mutual TLS', () => {
  const store = new FiringAlerts();
  let webhook: AlertWebhook;
  let tls: ReceiverCertificates;
  const post = (client?: 'alertmanager' | 'stranger') =>
    postHttps(`https://127.0.0.1:${webhook.port}/alertmanager`, payload, tls.ca, client && tls[client]);

  before(async () => {
    // Given a CA that signs the receiver's certificate and Alertmanager's, and another CA
    tls = receiverCertificates();
    // And the receiver wanting a client certificate of the first CA
    const { server, ca } = tls;
    webhook = await startAlertWebhook(
      { port: 0, auth: { mode: 'mtls', certFile: server.cert, keyFile: server.key, clientCaFile: ca.cert } },
      (p) => store.receive(p),
      () => undefined,
    );
  });
  after(() => webhook?.close());

  for (const [what, client, reason] of [
    ['no client certificate', undefined, 'NoClientCertificate'],
    ["a certificate of another CA (with Alertmanager's name)", 'stranger', 'UntrustedClientCertificate'],
  ] as const) {
    it(`refuses ${what}: 401 ${reason}, counted, nothing kept`, async () => {
      const before = await counted(reason);
      // When a client posts an alert with ${what}
      const answer = await post(client);
      // Then it is refused with the reason and the alert is not kept
      assert.equal(answer.status, 401);
      assert.match(answer.text, new RegExp(`^${reason}: `));
      assert.deepEqual(store.list(), []);
      assert.equal(await counted(reason), before + 1);
    });
  }

  it("lets Alertmanager's certificate in", async () => {
    const answer = await post('alertmanager');
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(
      store.list().map((a) => a.fingerprint),
      ['f1'],
    );
  });

  it('refuses to start when a certificate file cannot be read, naming it', async () => {
    await assert.rejects(
      startAlertWebhook(
        {
          port: 0,
          auth: {
            mode: 'mtls',
            certFile: tls.server.cert,
            keyFile: tls.server.key,
            clientCaFile: '/nonexistent/ca.crt',
          },
        },
        () => undefined,
        () => undefined,
      ),
      /the alert receiver's client CA \/nonexistent\/ca.crt cannot be read/,
    );
  });
});

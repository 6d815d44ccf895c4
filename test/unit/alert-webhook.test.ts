/**
 * The watcher's Alertmanager receiver: only a request with its bearer token gets in (the token
 * compared in constant time, refusals counted by reason and logged); a version 4 payload is kept,
 * anything else is answered with a status that says what is wrong and never reaches the firing
 * alerts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AlertmanagerPayload } from '../../policy-watcher/alert-payload.ts';
import { alertReceiverRequests } from '../../policy-watcher/alert-requests.ts';
import { FiringAlerts } from '../../policy-watcher/alert-store.ts';
import { type AlertWebhook, maxBodyBytes, startAlertWebhook } from '../../policy-watcher/alert-webhook.ts';

const token = 'a-token-of-the-receiver-0123456789';
const tokenFile = join(mkdtempSync(join(tmpdir(), 'kubemedic-alert-token-')), 'token');
writeFileSync(tokenFile, `${token}\n`);
const auth = { mode: 'token', tokenFile } as const;
const bearer = (value = token) => ({ Authorization: `Bearer ${value}` });
/** How many requests the receiver has answered for `reason` (the metric). */
const counted = async (reason: string) =>
  (await alertReceiverRequests.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

const alert = (fingerprint: string, status: 'firing' | 'resolved', startsAt = '2026-01-01T00:00:00Z') => ({
  status,
  labels: { alertname: 'HighErrorRate', namespace: 'shop', deployment: 'web' },
  annotations: { summary: 'errors' },
  startsAt,
  endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-01-01T00:10:00Z',
  generatorURL: 'http://prometheus/graph',
  fingerprint,
});

const payload = (alerts: ReturnType<typeof alert>[]): AlertmanagerPayload => ({
  version: '4',
  groupKey: '{}:{alertname="HighErrorRate"}',
  truncatedAlerts: 0,
  status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
  receiver: 'kubemedic-watcher',
  groupLabels: { alertname: 'HighErrorRate' },
  commonLabels: { alertname: 'HighErrorRate' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager',
  alerts,
});

describe('the Alertmanager webhook receiver', () => {
  const store = new FiringAlerts();
  let webhook: AlertWebhook;
  const post = (body: string, path = '/alertmanager', method = 'POST') =>
    fetch(`http://127.0.0.1:${webhook.port}${path}`, {
      method,
      headers: bearer(),
      body: method === 'POST' ? body : undefined,
    });
  const fingerprints = () => store.list().map((a) => a.fingerprint);

  before(async () => {
    webhook = await startAlertWebhook(
      { port: 0, auth },
      (p) => store.receive(p),
      () => undefined,
    );
  });
  after(() => webhook.close());

  it('keeps firing alerts and forgets resolved ones', async () => {
    // Given two firing alerts
    const answer = await post(JSON.stringify(payload([alert('a', 'firing'), alert('b', 'firing')])));
    assert.equal(answer.status, 200, await answer.text());
    assert.deepEqual(fingerprints(), ['a', 'b']);
    // When one is resolved
    await post(JSON.stringify(payload([alert('a', 'resolved')])));
    // Then only the other is firing
    assert.deepEqual(fingerprints(), ['b']);
  });

  it('keeps one entry per alert however often it is repeated; a new firing replaces the old', async () => {
    // Given an alert posted three times, then firing anew later
    for (let i = 0; i < 3; i += 1) await post(JSON.stringify(payload([alert('c', 'firing')])));
    await post(JSON.stringify(payload([alert('c', 'firing', '2026-01-02T00:00:00Z')])));
    // When a late resolution of the first firing arrives
    await post(JSON.stringify(payload([alert('c', 'resolved')])));
    // Then the alert is kept once, with the start of its newer firing
    const kept = store.list().filter((a) => a.fingerprint === 'c');
    assert.deepEqual(
      kept.map((a) => a.startsAt),
      ['2026-01-02T00:00:00Z'],
    );
  });

  it('answers 400 with the reason to a body that is not JSON, and keeps nothing', async () => {
    const before = fingerprints();
    const answer = await post('{"version": "4",');
    assert.equal(answer.status, 400);
    assert.match(await answer.text(), /not JSON/);
    assert.deepEqual(fingerprints(), before);
  });

  it("answers 400 naming each wrong field of a payload that is not Alertmanager's", async () => {
    const before = fingerprints();
    const bad = { ...payload([alert('d', 'firing')]), version: '3' } as Record<string, unknown>;
    (bad.alerts as Record<string, unknown>[])[0]!.startsAt = 'yesterday';
    delete (bad.alerts as Record<string, unknown>[])[0]!.fingerprint;
    const answer = await post(JSON.stringify(bad));
    assert.equal(answer.status, 400);
    const text = await answer.text();
    assert.match(text, /version/);
    assert.match(text, /alerts\.0\.startsAt/);
    assert.match(text, /alerts\.0\.fingerprint/);
    assert.deepEqual(fingerprints(), before, 'nothing of a bad payload is kept');
    assert.equal((await post(JSON.stringify([]))).status, 400, 'an array is not a payload');
  });

  it('answers 404 elsewhere and 405 to other methods, and goes on serving', async () => {
    assert.equal((await post('{}', '/alerts')).status, 404);
    assert.equal((await post('', '/alertmanager', 'GET')).status, 405);
    assert.equal((await post(JSON.stringify(payload([])))).status, 200);
  });

  it('answers 413 to a body over the limit, from its declared length, and keeps nothing', async () => {
    const before = fingerprints();
    const answer = await post('x'.repeat(maxBodyBytes + 1));
    assert.equal(answer.status, 413);
    assert.match(await answer.text(), /TooLarge: .*max_alerts/);
    assert.deepEqual(fingerprints(), before);
  });
});

describe("the receiver's bearer token", () => {
  const store = new FiringAlerts();
  const logged: Record<string, unknown>[] = [];
  let webhook: AlertWebhook;
  const forged = JSON.stringify(payload([alert('forged', 'firing')]));
  const send = (headers: Record<string, string>) =>
    fetch(`http://127.0.0.1:${webhook.port}/alertmanager`, { method: 'POST', headers, body: forged });

  before(async () => {
    webhook = await startAlertWebhook(
      { port: 0, auth },
      (p) => store.receive(p),
      (message, fields) => logged.push({ message, ...fields }),
    );
  });
  after(() => webhook.close());

  for (const [what, headers, reason] of [
    ['no Authorization header', {}, 'MissingToken'],
    [
      'another scheme',
      { Authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` },
      'NotBearer',
    ],
    ['a wrong token', bearer('a-token-of-the-receiver-0123456780'), 'WrongToken'],
    ['the token with a suffix', bearer(`${token}x`), 'WrongToken'],
    ['a prefix of the token', bearer(token.slice(0, -1)), 'WrongToken'],
  ] as const) {
    it(`refuses ${what}: 401 ${reason}, counted and logged, nothing kept`, async () => {
      // Given the receiver's metric so far
      const before = await counted(reason);
      // When a forged alert comes with ${what}
      const answer = await send(headers);
      // Then it is refused with the reason, asked for a bearer token, and the alert is not kept
      assert.equal(answer.status, 401);
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer /);
      assert.match(await answer.text(), new RegExp(`^${reason}: `));
      assert.deepEqual(store.list(), []);
      // And the refusal is counted under its reason, and logged (never with the token)
      assert.equal(await counted(reason), before + 1);
      assert.ok(logged.some((line) => line.reason === reason && line.status === 401));
      assert.ok(!JSON.stringify(logged).includes(token), 'the token is never logged');
    });
  }

  it('lets the token in, and a rotated token at once without a restart', async () => {
    // Given the token / Then the alert is kept
    assert.equal((await send(bearer())).status, 200);
    assert.deepEqual(
      store.list().map((a) => a.fingerprint),
      ['forged'],
    );
    // When the Secret is rotated (the mounted file changes)
    const rotated = 'the-rotated-token-of-the-receiver-42';
    writeFileSync(tokenFile, rotated);
    try {
      // Then the new token gets in and the old one no longer does
      assert.equal((await send(bearer(rotated))).status, 200);
      assert.equal((await send(bearer())).status, 401);
    } finally {
      writeFileSync(tokenFile, token);
    }
  });

  it('logs a flood of refusals once a minute per reason, not once per request', async () => {
    const lines = () => logged.filter((line) => line.reason === 'WrongToken').length;
    const before = lines();
    for (let i = 0; i < 20; i += 1) await send(bearer('wrong-wrong-wrong-wrong'));
    assert.ok(lines() - before <= 1, `${lines() - before} lines for 20 refusals`);
  });

  it('refuses to start without a readable token of at least 16 characters, naming the way out', async () => {
    const short = join(mkdtempSync(join(tmpdir(), 'kubemedic-alert-token-')), 'token');
    writeFileSync(short, 'short\n');
    for (const file of [short, '/nonexistent/token']) {
      await assert.rejects(
        startAlertWebhook(
          { port: 0, auth: { mode: 'token', tokenFile: file } },
          () => undefined,
          () => undefined,
        ),
        new RegExp(`token file ${file} cannot be read .*KUBEMEDIC_ALERT_RECEIVER_AUTH=none`),
      );
    }
  });

  it('without authentication, chosen explicitly, lets anyone in and warns at start', async () => {
    const warnings: Record<string, unknown>[] = [];
    const open = await startAlertWebhook(
      { port: 0, auth: { mode: 'none' } },
      () => undefined,
      (message, fields) => warnings.push({ message, ...fields }),
    );
    try {
      const answer = await fetch(`http://127.0.0.1:${open.port}/alertmanager`, {
        method: 'POST',
        body: forged,
      });
      assert.equal(answer.status, 200);
      assert.ok(warnings.some((w) => w.level === 'warn' && /WITHOUT authentication/.test(String(w.message))));
    } finally {
      await open.close();
    }
  });
});

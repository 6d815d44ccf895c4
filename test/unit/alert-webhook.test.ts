/**
 * The watcher's Alertmanager receiver: a version 4 payload is kept, anything else is answered
 * with a status that says what is wrong and never reaches the firing alerts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AlertmanagerPayload } from '../../policy-watcher/alert-payload.ts';
import { FiringAlerts } from '../../policy-watcher/alert-store.ts';
import { type AlertWebhook, startAlertWebhook } from '../../policy-watcher/alert-webhook.ts';

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
    fetch(`http://127.0.0.1:${webhook.port}${path}`, { method, body: method === 'POST' ? body : undefined });
  const fingerprints = () => store.list().map((a) => a.fingerprint);

  before(async () => {
    webhook = await startAlertWebhook(0, (p) => store.receive(p), '127.0.0.1');
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
});

/** The watcher's store of firing alerts stays bounded whatever is posted to the receiver. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AlertmanagerPayload } from '../../policy-watcher/alert-payload.ts';
import { FiringAlerts } from '../../policy-watcher/alert-store.ts';

const firing = (...fingerprints: string[]): AlertmanagerPayload =>
  ({
    version: '4',
    status: 'firing',
    alerts: fingerprints.map((fingerprint) => ({
      status: 'firing',
      fingerprint,
      startsAt: '2026-11-30T00:00:00Z',
      labels: { alertname: 'HighErrorRate', fingerprint },
    })),
  }) as unknown as AlertmanagerPayload;

describe('the firing alerts store', () => {
  it('forgets an alert not heard of again within the retention', () => {
    let now = 0;
    const store = new FiringAlerts({ retentionMs: 1_000, maxAlerts: 10 }, () => now);
    store.receive(firing('a', 'b'));
    now = 600;
    store.receive(firing('b'));
    now = 1_200;
    assert.deepEqual(
      store.list().map((a) => a.fingerprint),
      ['b'],
      'a expired; b was heard of again',
    );
  });

  it('keeps at most maxAlerts, letting go of those heard of longest ago', () => {
    const store = new FiringAlerts({ retentionMs: 60_000, maxAlerts: 3 }, () => 0);
    store.receive(firing('a', 'b', 'c'));
    store.receive(firing('a'));
    store.receive(firing('d', 'e'));
    assert.deepEqual(
      store.list().map((a) => a.fingerprint),
      ['a', 'd', 'e'],
    );
    assert.equal(store.evicted, 2);
  });

  it('takes 50 posts of 10,000 forged alerts without growing past its bound', () => {
    const store = new FiringAlerts({ retentionMs: 60_000, maxAlerts: 10_000 }, () => 0);
    for (let post = 0; post < 50; post++) {
      store.receive(firing(...Array.from({ length: 10_000 }, (_, i) => `forged-${post}-${i}`)));
    }
    assert.equal(store.list().length, 10_000);
    assert.equal(store.evicted, 490_000);
  });
});

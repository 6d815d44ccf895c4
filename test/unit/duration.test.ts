/** Go durations as policies write them, in milliseconds; what Go refuses, parseDuration refuses. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationPattern } from '../../api/policy.ts';
import { parseDuration } from '../../domain/duration.ts';

describe('parseDuration', () => {
  it('reads single units', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1500us'), 1.5);
    assert.equal(parseDuration('1µs'), 0.001);
    assert.equal(parseDuration('2000000ns'), 2);
  });

  it('adds up sequences and fractions, as Go does', () => {
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1m30s500ms'), 90_500);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('.5s'), 500);
    assert.equal(parseDuration('1.s'), 1_000);
    assert.equal(parseDuration('1m1m'), 120_000);
  });

  it('takes a bare 0 and a sign', () => {
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('+3s'), 3_000);
    assert.equal(parseDuration('-3s'), -3_000);
  });

  it('refuses what Go refuses, saying why', () => {
    for (const bad of ['', '-', '10', '1', '3x', 's', '1h 30m', '.s', '1.2.3s', ' 5s', '5s ', '1d'])
      assert.throws(() => parseDuration(bad), /invalid duration/, JSON.stringify(bad));
    assert.throws(() => parseDuration('10'), /missing unit/);
  });

  it('reads every duration the policy schema accepts', () => {
    for (const text of ['30s', '5m', '1h30m', '250ms', '0.5s', '10m', '1h0m0s']) {
      assert.ok(durationPattern.test(text), text);
      assert.ok(Number.isFinite(parseDuration(text)), text);
    }
  });
});

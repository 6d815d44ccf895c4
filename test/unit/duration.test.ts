/** Go durations as policies write them, in milliseconds; what Go refuses, parseDuration refuses. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationPattern, parseDuration } from '../../domain/duration.ts';

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

  it('reads every duration the policy schema accepts, also generated ones', () => {
    const units = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
    // A fixed-seed generator: the same 500 compound durations on every run.
    let seed = 42;
    const next = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
    for (let i = 0; i < 500; i++) {
      const terms = Array.from({ length: 1 + next(4) }, () => {
        const unit = (Object.keys(units) as (keyof typeof units)[])[next(4)]!;
        return { amount: next(1000) + (next(2) ? next(10) / 10 : 0), unit };
      });
      const text = terms.map((t) => `${t.amount}${t.unit}`).join('');
      assert.ok(durationPattern.test(text), text);
      const expected = terms.reduce((sum, t) => sum + t.amount * units[t.unit], 0);
      assert.ok(Math.abs(parseDuration(text) - expected) < 1e-6, text);
    }
    for (const text of ['30s', '5m', '1h30m', '250ms', '0.5s', '10m', '1h0m0s']) {
      assert.ok(durationPattern.test(text), text);
      assert.ok(Number.isFinite(parseDuration(text)), text);
    }
  });
});

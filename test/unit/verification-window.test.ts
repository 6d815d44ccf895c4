/** Verification over a window: how readings, the failure limit and onNoData make a verdict. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Verdict } from '../../domain/run.ts';
import {
  failedReading,
  type VerificationWindow,
  verificationWindow,
  verifyOverWindow,
} from '../../workflows/verification.ts';

const healthy: Verdict = { healthy: true, reason: 'load is 0.2', readings: [] };
const sick: Verdict = { healthy: false, reason: 'load is 0.9', readings: [] };
const noData = (onNoData: VerificationWindow['onNoData']): Verdict => ({
  healthy: onNoData === 'Pass',
  noData: true,
  reason: 'no data for load',
  readings: [],
});

/** Runs the window over scripted readings; returns the verdict, how many were read and the waits. */
async function over(window: Partial<VerificationWindow>, readings: Verdict[]) {
  const settings = { ...verificationWindow(undefined), intervalMs: 10_000, ...window };
  const waits: number[] = [];
  let read = 0;
  const verdict = await verifyOverWindow(
    settings,
    async () => readings[read++]!,
    async (ms) => void waits.push(ms),
  );
  return { verdict, read, waits };
}

describe('verification over a window', () => {
  it('with one reading (the default) judges it as before: its own verdict and reason', async () => {
    assert.deepEqual((await over({}, [sick])).verdict, sick);
    assert.deepEqual((await over({}, [healthy])).verdict, healthy);
  });

  it('takes every reading interval apart, and passes within the failure limit', async () => {
    const { verdict, read, waits } = await over({ readings: 3, failureLimit: 1 }, [healthy, sick, healthy]);
    assert.equal(verdict.healthy, true);
    assert.match(verdict.reason, /^1 of 3 readings unhealthy \(failureLimit 1\)/);
    assert.equal(read, 3);
    assert.deepEqual(waits, [10_000, 10_000]);
  });

  it('fails as soon as the failure limit is passed, without reading on', async () => {
    const { verdict, read } = await over({ readings: 5, failureLimit: 1 }, [sick, sick, healthy]);
    assert.equal(verdict.healthy, false);
    assert.match(verdict.reason, /2 of 2 readings unhealthy \(failureLimit 1\); the last: load is 0\.9/);
    assert.equal(read, 2);
  });

  it('counts readings without data as onNoData says: Pass, Fail or Inconclusive', async () => {
    assert.equal(
      (await over({ readings: 2, onNoData: 'Pass' }, [noData('Pass'), healthy])).verdict.healthy,
      true,
    );
    assert.equal(
      (await over({ readings: 2, onNoData: 'Fail' }, [noData('Fail'), healthy])).verdict.healthy,
      false,
    );
    const { verdict } = await over({ readings: 2, onNoData: 'Inconclusive' }, [
      noData('Inconclusive'),
      healthy,
    ]);
    assert.equal(verdict.healthy, false);
    assert.equal(verdict.inconclusive, true);
    assert.match(verdict.reason, /^inconclusive: 1 of 2 readings had no data/);
  });

  it('takes a reading that could not be taken (Prometheus unreachable) as one without data', async () => {
    const window = { ...verificationWindow(undefined), onNoData: 'Inconclusive' as const };
    const failed = failedReading(window, 'verifyTarget: connect ECONNREFUSED');
    assert.equal(failed.noData, true);
    const { verdict } = await over(window, [failed]);
    assert.equal(verdict.inconclusive, true);
    assert.match(verdict.reason, /could not be taken \(verifyTarget: connect ECONNREFUSED\)/);
  });

  it('reads the policy: defaults, and compound intervals', () => {
    assert.deepEqual(verificationWindow(undefined), {
      readings: 1,
      intervalMs: 30_000,
      failureLimit: 0,
      onNoData: 'Fail',
    });
    const settle = '0s';
    assert.equal(
      verificationWindow({ settle, readings: 4, interval: '1m30s', failureLimit: 2, onNoData: 'Pass' })
        .intervalMs,
      90_000,
    );
  });
});

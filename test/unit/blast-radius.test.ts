/**
 * Blast radius: remediate none when more targets fire than `maxUnhealthy`, or a larger share than
 * `maxUnhealthyPercent` (exactly at a limit is allowed), and start nothing for `stormCooldown`
 * after a storm was last seen.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BlastRadius,
  type BlastRadiusLimits,
  decideBlastRadius,
  judgeBlastRadius,
} from '../../policy-watcher/blast-radius.ts';

describe('judgeBlastRadius', () => {
  const table: {
    case: string;
    unhealthy: number;
    matched: number;
    limits: BlastRadiusLimits | undefined;
    message?: string; // absent: allowed
  }[] = [
    { case: 'no blastRadius at all', unhealthy: 10, matched: 10, limits: undefined },
    { case: 'blastRadius with no limit set', unhealthy: 10, matched: 10, limits: {} },
    { case: 'absolute: under', unhealthy: 2, matched: 10, limits: { maxUnhealthy: 3 } },
    { case: 'absolute: exactly at the limit', unhealthy: 3, matched: 10, limits: { maxUnhealthy: 3 } },
    {
      case: 'absolute: above',
      unhealthy: 4,
      matched: 10,
      limits: { maxUnhealthy: 3 },
      message:
        '4 of 10 targets are unhealthy (40%), above the limit of 3: remediating none; a person should look',
    },
    {
      case: 'absolute: 0 allows none',
      unhealthy: 1,
      matched: 1,
      limits: { maxUnhealthy: 0 },
      message:
        '1 of 1 target is unhealthy (100%), above the limit of 0: remediating none; a person should look',
    },
    { case: 'percent: under', unhealthy: 3, matched: 10, limits: { maxUnhealthyPercent: 40 } },
    { case: 'percent: exactly at the limit', unhealthy: 4, matched: 10, limits: { maxUnhealthyPercent: 40 } },
    {
      case: 'percent: exactly at the limit, no rounding',
      unhealthy: 2,
      matched: 5,
      limits: { maxUnhealthyPercent: 40 },
    },
    {
      case: 'percent: above',
      unhealthy: 6,
      matched: 10,
      limits: { maxUnhealthyPercent: 40 },
      message:
        '6 of 10 targets are unhealthy (60%), above the limit of 40%: remediating none; a person should look',
    },
    {
      case: 'percent: just above, a share that is not whole',
      unhealthy: 1,
      matched: 3,
      limits: { maxUnhealthyPercent: 33 },
      message:
        '1 of 3 targets is unhealthy (33.33%), above the limit of 33%: remediating none; a person should look',
    },
    {
      case: 'both: only the absolute one above',
      unhealthy: 4,
      matched: 100,
      limits: { maxUnhealthy: 3, maxUnhealthyPercent: 40 },
      message:
        '4 of 100 targets are unhealthy (4%), above the limit of 3: remediating none; a person should look',
    },
    {
      case: 'both: only the percent one above',
      unhealthy: 3,
      matched: 5,
      limits: { maxUnhealthy: 5, maxUnhealthyPercent: 40 },
      message:
        '3 of 5 targets are unhealthy (60%), above the limit of 40%: remediating none; a person should look',
    },
    {
      case: 'both above',
      unhealthy: 6,
      matched: 10,
      limits: { maxUnhealthy: 5, maxUnhealthyPercent: 40 },
      message:
        '6 of 10 targets are unhealthy (60%), above the limits of 5 and 40%: remediating none; a person should look',
    },
    {
      case: 'both: each exactly at its limit',
      unhealthy: 4,
      matched: 10,
      limits: { maxUnhealthy: 4, maxUnhealthyPercent: 40 },
    },
    { case: 'zero targets', unhealthy: 0, matched: 0, limits: { maxUnhealthy: 0, maxUnhealthyPercent: 0 } },
    {
      case: 'none unhealthy',
      unhealthy: 0,
      matched: 10,
      limits: { maxUnhealthy: 0, maxUnhealthyPercent: 0 },
    },
  ];
  for (const row of table) {
    it(`${row.case}: ${row.message === undefined ? 'allowed' : 'above'}`, () => {
      assert.deepEqual(
        judgeBlastRadius(row.unhealthy, row.matched, row.limits),
        row.message === undefined ? { exceeded: false } : { exceeded: true, message: row.message },
      );
    });
  }
});

describe('decideBlastRadius', () => {
  const t0 = Date.parse('2026-03-01T12:00:00Z');
  const at = (seconds: number) => t0 + seconds * 1000;
  const blastRadius = { maxUnhealthyPercent: 40, stormCooldown: '10m' };
  const decide = (unhealthy: number, lastStormSeconds: number | undefined, seconds: number) =>
    decideBlastRadius({
      unhealthy,
      matched: 10,
      blastRadius,
      lastStormMs: lastStormSeconds === undefined ? undefined : at(lastStormSeconds),
      nowMs: at(seconds),
    });

  it('remediates as usual under the limit with no storm remembered', () => {
    assert.deepEqual(decide(4, undefined, 0), { verdict: 'Remediate' });
  });

  it('starts a new storm above the limit, its cooldown from now', () => {
    const decision = decide(6, undefined, 0);
    assert.equal(decision.verdict, 'BlastRadius');
    assert.ok(decision.verdict === 'BlastRadius');
    assert.equal(decision.newStorm, true);
    assert.equal(decision.untilMs, at(600));
    assert.equal(
      decision.message,
      '6 of 10 targets are unhealthy (60%), above the limit of 40%: remediating none; a person should look',
    );
    assert.equal(
      decision.event,
      `${decision.message}. No remediation of this policy starts until 2026-03-01T12:10:00.000Z (stormCooldown 10m after the storm was last seen).`,
    );
  });

  it('goes on with the same storm while it lasts, moving the end of its cooldown', () => {
    const decision = decide(7, 0, 300);
    assert.ok(decision.verdict === 'BlastRadius');
    assert.equal(decision.newStorm, false);
    assert.equal(decision.untilMs, at(900));
  });

  it('starts nothing in the cooldown once the count is back under the limit, and says until when', () => {
    assert.deepEqual(decide(2, 0, 599), {
      verdict: 'StormCooldown',
      message:
        'storm cooldown: too many targets were unhealthy at 2026-03-01T12:00:00.000Z; no remediation starts ' +
        'until 2026-03-01T12:10:00.000Z (stormCooldown 10m); now 2 of 10 targets are unhealthy (20%)',
      untilMs: at(600),
    });
  });

  it('remediates again once the cooldown has passed', () => {
    assert.deepEqual(decide(2, 0, 600), { verdict: 'Remediate' });
  });

  it('counts a storm after the cooldown has passed as a new one', () => {
    const decision = decide(6, 0, 600);
    assert.ok(decision.verdict === 'BlastRadius');
    assert.equal(decision.newStorm, true);
  });

  it('defaults the cooldown to 10m, and measures it with the policy as it is now', () => {
    const defaulted = decideBlastRadius({
      unhealthy: 0,
      matched: 10,
      // As a policy written before the default was applied.
      blastRadius: { maxUnhealthy: 3 } as BlastRadius,
      lastStormMs: at(0),
      nowMs: at(599),
    });
    assert.equal(defaulted.verdict, 'StormCooldown');
    const shortened = decideBlastRadius({
      unhealthy: 0,
      matched: 10,
      blastRadius: { maxUnhealthy: 3, stormCooldown: '1m' },
      lastStormMs: at(0),
      nowMs: at(60),
    });
    assert.deepEqual(shortened, { verdict: 'Remediate' });
  });

  it('remediates with no blastRadius, whatever storm is remembered', () => {
    assert.deepEqual(
      decideBlastRadius({
        unhealthy: 10,
        matched: 10,
        blastRadius: undefined,
        lastStormMs: at(0),
        nowMs: at(1),
      }),
      { verdict: 'Remediate' },
    );
  });
});

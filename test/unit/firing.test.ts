/**
 * `for` durations: a condition fires only once it has held for its `for`, a reading that stops
 * holding resets the clock, and a watcher restart (a new tracker) never fires early.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HoldTracker } from '../../policy-watcher/firing.ts';
import type { ConditionReading } from '../../domain/run.ts';

const t0 = Date.parse('2026-03-01T12:00:00Z');
const at = (seconds: number) => t0 + seconds * 1000;
const reading = (name: string, holds: boolean, value = holds ? 1 : 0): ConditionReading => ({
  name,
  value,
  holds,
});

/** Whether the one condition `c` of `key` fires at `seconds`, with `for` of `forSeconds`. */
const fires = (tracker: HoldTracker, key: string, holds: boolean, forSeconds: number, seconds: number) =>
  tracker.observe(key, [reading('c', holds)], [forSeconds * 1000], at(seconds))[0]!.holds;

describe('HoldTracker', () => {
  it('fires only once the condition has held for its `for`', () => {
    const tracker = new HoldTracker();
    assert.equal(fires(tracker, 'p/web', true, 20, 0), false, 'first seen holding');
    assert.equal(fires(tracker, 'p/web', true, 20, 10), false);
    assert.equal(fires(tracker, 'p/web', true, 20, 19.999), false);
    assert.equal(fires(tracker, 'p/web', true, 20, 20), true, 'exactly `for` later');
    assert.equal(fires(tracker, 'p/web', true, 20, 45), true, 'and while it goes on holding');
  });

  it('fires at once with a `for` of 0, and never for a reading that does not hold', () => {
    const tracker = new HoldTracker();
    assert.equal(fires(tracker, 'p/web', true, 0, 0), true);
    assert.equal(fires(tracker, 'p/api', false, 0, 0), false);
  });

  it('keeps the value and name, changing only `holds`', () => {
    const tracker = new HoldTracker();
    assert.deepEqual(tracker.observe('p/web', [reading('c', true, 7)], [5000], at(0)), [
      { name: 'c', value: 7, holds: false },
    ]);
    assert.deepEqual(tracker.observe('p/web', [reading('c', true, 8)], [5000], at(5)), [
      { name: 'c', value: 8, holds: true },
    ]);
  });

  it('starts the clock again after a reading that does not hold', () => {
    const tracker = new HoldTracker();
    fires(tracker, 'p/web', true, 20, 0);
    fires(tracker, 'p/web', true, 20, 15);
    assert.equal(fires(tracker, 'p/web', false, 20, 16), false, 'stops holding');
    assert.equal(fires(tracker, 'p/web', true, 20, 17), false, 'holds again: a new clock');
    assert.equal(
      fires(tracker, 'p/web', true, 20, 25),
      false,
      '25s after the first hold, 8s after the new one',
    );
    assert.equal(fires(tracker, 'p/web', true, 20, 36.999), false);
    assert.equal(fires(tracker, 'p/web', true, 20, 37), true);
  });

  it('never fires before `for` in a new tracker (a watcher restart), however long it held before', () => {
    const before = new HoldTracker();
    fires(before, 'p/web', true, 20, 0);
    assert.equal(fires(before, 'p/web', true, 20, 600), true, 'held for 10 minutes');
    // The watcher restarts: its clocks are not persisted
    const after = new HoldTracker();
    assert.equal(fires(after, 'p/web', true, 20, 601), false);
    assert.equal(fires(after, 'p/web', true, 20, 620), false);
    assert.equal(fires(after, 'p/web', true, 20, 621), true, '`for` after the restart');
  });

  it('keeps one clock per target and per condition, each with its own `for`', () => {
    const tracker = new HoldTracker();
    const observe = (key: string, seconds: number, holds: [boolean, boolean]) =>
      tracker
        .observe(
          key,
          [reading('crash', holds[0]), reading('pending', holds[1])],
          [10_000, 30_000],
          at(seconds),
        )
        .map((r) => r.holds);
    assert.deepEqual(observe('p/web', 0, [true, true]), [false, false]);
    assert.deepEqual(observe('p/api', 5, [true, false]), [false, false]);
    assert.deepEqual(observe('p/web', 10, [true, true]), [true, false]);
    assert.deepEqual(observe('p/api', 10, [true, false]), [false, false], 'api held only 5s');
    assert.deepEqual(observe('p/web', 20, [false, true]), [false, false], 'crash stopped; pending at 20s');
    assert.deepEqual(observe('p/web', 30, [true, true]), [false, true], 'crash anew; pending at 30s');
    assert.deepEqual(observe('p/api', 15, [true, false]), [true, false]);
  });

  it('retain() forgets targets that are gone, so one that returns starts anew', () => {
    const tracker = new HoldTracker();
    fires(tracker, 'p/web', true, 20, 0);
    fires(tracker, 'p/api', true, 20, 0);
    tracker.retain(new Set(['p/api']));
    assert.equal(fires(tracker, 'p/api', true, 20, 20), true, 'api kept its clock');
    assert.equal(fires(tracker, 'p/web', true, 20, 20), false, 'web is back: a new clock');
    assert.equal(fires(tracker, 'p/web', true, 20, 40), true);
  });

  it('retain() with a scope forgets only inside it, so one policy never resets another', () => {
    // The watcher evaluates one policy at a time and retains that policy's targets only.
    const tracker = new HoldTracker();
    fires(tracker, 'uid-a/Pod/shop/web', true, 20, 0);
    fires(tracker, 'uid-a/Pod/shop/gone', true, 20, 0);
    fires(tracker, 'uid-b/Pod/shop/api', true, 20, 0);
    tracker.retain(new Set(['uid-b/Pod/shop/api']), 'uid-b/');
    tracker.retain(new Set(['uid-a/Pod/shop/web']), 'uid-a/');
    assert.equal(fires(tracker, 'uid-a/Pod/shop/web', true, 20, 20), true, 'policy a kept its clock');
    assert.equal(fires(tracker, 'uid-b/Pod/shop/api', true, 20, 20), true, 'policy b kept its clock');
    assert.equal(fires(tracker, 'uid-a/Pod/shop/gone', true, 20, 20), false, 'gone from policy a: forgotten');
    // A policy with no targets left forgets all of its clocks, and only its own
    tracker.retain(new Set(), 'uid-b/');
    assert.equal(fires(tracker, 'uid-b/Pod/shop/api', true, 20, 21), false);
    assert.equal(fires(tracker, 'uid-a/Pod/shop/web', true, 20, 21), true);
  });

  it('says when the first holding condition will have held for its `for`, so the watcher evaluates then', () => {
    const tracker = new HoldTracker();
    const readings = [reading('slow', true), reading('quick', true), reading('off', false)];
    const forMs = [60_000, 20_000, 1_000];
    tracker.observe('p/web', readings, forMs, at(0));
    assert.equal(tracker.nextFiring('p/web', readings, forMs, at(0)), at(20), 'the quicker `for` first');
    tracker.observe('p/web', readings, forMs, at(30));
    assert.equal(tracker.nextFiring('p/web', readings, forMs, at(30)), at(60), "'quick' fired already");
    tracker.observe('p/web', readings, forMs, at(61));
    assert.equal(tracker.nextFiring('p/web', readings, forMs, at(61)), Infinity, 'nothing left to wait for');
    assert.equal(tracker.nextFiring('p/api', readings, forMs, at(61)), Infinity, 'a key never observed');
  });
});

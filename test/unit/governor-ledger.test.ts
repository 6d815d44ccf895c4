/** The governor's rules without a server: the ledger the governor workflow feeds. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Limits, PermitRequest } from '../../domain/governor.ts';
import { GovernorLedger, hourMs } from '../../workflows/governor-ledger.ts';

const ledgerWith = (rules: Partial<{ settleHeldGrants: boolean; refundUnused: boolean }> = {}) =>
  new GovernorLedger(GovernorLedger.empty(), 'governor/test', {
    settleHeldGrants: rules.settleHeldGrants ?? true,
    refundUnused: () => rules.refundUnused ?? true,
  });

const request = (workflowId: string, limits: Limits, targetKey = workflowId): PermitRequest => ({
  workflowId,
  targetKey,
  limits,
});

/** Answers every request that can be answered now, as the workflow's loop does. */
function answerAll(ledger: GovernorLedger, now: number) {
  const answers = [];
  while (ledger.decidable(now)) answers.push(ledger.decideNext(now));
  return answers.map(({ request: r, answer }) => ({ workflowId: r.workflowId, ...answer }));
}

describe('the governor ledger', () => {
  it('grants up to maxConcurrent and queues the rest until a permit is released', () => {
    const ledger = ledgerWith();
    ledger.request(request('a', { maxConcurrent: 1 }));
    ledger.request(request('b', { maxConcurrent: 1 }));
    assert.deepEqual(
      answerAll(ledger, 0).map((a) => [a.workflowId, a.code]),
      [['a', 'granted']],
    );
    assert.equal(ledger.status(0).queued, 1);
    ledger.release('a', false);
    assert.deepEqual(
      answerAll(ledger, 1).map((a) => [a.workflowId, a.code]),
      [['b', 'granted']],
    );
  });

  it('drops a request withdrawn while queued, so its run is never granted later', () => {
    const ledger = ledgerWith();
    ledger.request(request('a', { maxConcurrent: 1 }));
    answerAll(ledger, 0);
    ledger.request(request('cancelled', { maxConcurrent: 1 }));
    // When the run is cancelled while it waits, it releases every governor it asked.
    ledger.release('cancelled', true);
    ledger.release('a', false);
    assert.deepEqual(answerAll(ledger, 1), []);
    assert.deepEqual(ledger.status(1), {
      active: [],
      queued: 0,
      grantedLastHour: 1,
      paused: undefined,
      storm: undefined,
    });
  });

  it('frees the grant of a run found closed when its answer is sent', () => {
    const ledger = ledgerWith();
    ledger.request(request('gone', { maxConcurrent: 1 }));
    answerAll(ledger, 0);
    ledger.runGone('gone');
    assert.deepEqual(ledger.status(0).active, []);
  });

  it('refuses past maxPerHour, and gives an unused grant back', () => {
    const ledger = ledgerWith();
    ledger.request(request('a', { maxPerHour: 1 }));
    answerAll(ledger, 0);
    ledger.release('a', false);
    ledger.request(request('b', { maxPerHour: 1 }));
    const [refused] = answerAll(ledger, 1);
    assert.equal(refused?.code, 'rate-limited');
    assert.match(refused?.reason ?? '', /1 remediations in the last hour; the limit is 1/);

    const refunding = ledgerWith();
    refunding.request(request('a', { maxPerHour: 1 }));
    answerAll(refunding, 0);
    refunding.release('a', true);
    refunding.request(request('b', { maxPerHour: 1 }));
    assert.equal(answerAll(refunding, 1)[0]?.code, 'granted');
  });

  it('waits, instead of refusing, while the hourly limit is reached only by grants still held', () => {
    const ledger = ledgerWith();
    ledger.request(request('a', { maxPerHour: 1 }));
    answerAll(ledger, 0);
    ledger.request(request('b', { maxPerHour: 1 }));
    assert.deepEqual(answerAll(ledger, 1), [], 'b waits: a may yet give its grant back');
    ledger.release('a', true);
    assert.equal(answerAll(ledger, 2)[0]?.code, 'granted');
  });

  it('says when a target needing attention may be tried again', () => {
    const ledger = ledgerWith();
    const limits = { maxAttemptsPerTarget: 1, attemptsWindowMs: 10_000 };
    ledger.request(request('first', limits, 'web'));
    answerAll(ledger, 1_000);
    ledger.release('first', false);
    ledger.request(request('second', limits, 'web'));
    const [answer] = answerAll(ledger, 2_000);
    assert.equal(answer?.code, 'needs-attention');
    assert.equal(answer?.untilMs, 11_000);
  });

  it('keeps attempts for their own window across continue-as-new, also above 24 hours', () => {
    const ledger = ledgerWith();
    const limits = { maxAttemptsPerTarget: 1, attemptsWindowMs: 48 * hourMs };
    ledger.request(request('first', limits, 'web'));
    answerAll(ledger, 0);
    ledger.release('first', false);

    const carried = new GovernorLedger(ledger.pruned(30 * hourMs), 'governor/test', {
      settleHeldGrants: true,
      refundUnused: () => true,
    });
    carried.request(request('second', limits, 'web'));
    assert.equal(answerAll(carried, 30 * hourMs)[0]?.code, 'needs-attention');
    assert.deepEqual(carried.pruned(49 * hourMs).attempts, {}, 'gone once its own window has passed');
  });

  it('refuses everything while paused or after a storm, until resumed or the cooldown ends', () => {
    const ledger = ledgerWith();
    ledger.pause('oncall', 'incident');
    ledger.request(request('a', {}));
    assert.match(answerAll(ledger, 0)[0]?.reason ?? '', /paused by oncall: incident/);
    ledger.resume();
    ledger.stormReported(0, 1_000, '6 of 10 targets are unhealthy');
    ledger.request(request('b', {}));
    assert.equal(answerAll(ledger, 500)[0]?.code, 'storm-cooldown');
    ledger.request(request('c', {}));
    assert.equal(answerAll(ledger, 1_500)[0]?.code, 'granted');
  });

  describe('asked by update (answerNow)', () => {
    it('answers at once what can be decided, and counts a retried ask once', () => {
      const ledger = ledgerWith();
      const limits = { maxConcurrent: 2, maxPerHour: 5 };
      const first = ledger.answerNow(request('a', limits), 0);
      assert.ok(first !== 'queued' && first.granted);
      assert.equal(first.reason, '1 active after this grant');
      const again = ledger.answerNow(request('a', limits), 1);
      assert.ok(again !== 'queued' && again.granted);
      assert.equal(again.reason, 'already holds a permit');
      assert.equal(ledger.status(1).grantedLastHour, 1, 'the retry took no second grant');
      assert.deepEqual(ledger.status(1).active, ['a']);
    });

    it('queues behind the concurrency limit and behind earlier requests (FIFO), answered later as signals are', () => {
      const ledger = ledgerWith();
      const limits = { maxConcurrent: 1 };
      const first = ledger.answerNow(request('a', limits), 0);
      assert.ok(first !== 'queued' && first.granted);
      assert.equal(ledger.answerNow(request('b', limits), 1), 'queued');
      assert.equal(ledger.answerNow(request('c', limits), 2), 'queued');
      // A retried ask while queued neither answers nor queues twice.
      assert.equal(ledger.answerNow(request('b', limits), 3), 'queued');
      assert.equal(ledger.status(3).queued, 2);
      ledger.release('a', false);
      assert.deepEqual(
        answerAll(ledger, 4).map((a) => [a.workflowId, a.code]),
        [['b', 'granted']],
      );
      // c is behind b and b holds the only slot: an ask by c is still queued, never answered out of turn.
      assert.equal(ledger.answerNow(request('c', limits), 5), 'queued');
    });

    it('refuses at once with the same reasons as a signalled request', () => {
      const ledger = ledgerWith();
      ledger.pause('oncall', 'incident 7');
      const refused = ledger.answerNow(request('a', {}), 0);
      assert.ok(refused !== 'queued' && !refused.granted);
      assert.equal(refused.code, 'paused');
      assert.match(refused.reason, /paused by oncall: incident 7/);
      assert.equal(ledger.status(0).queued, 0, 'a refused ask leaves nothing queued');
    });
  });
});

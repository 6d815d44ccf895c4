/**
 * Approval (approve by update, reject by signal, deadline), cancel in the middle, and a change
 * made by someone else before a rollback — each on a real workflow, worker and API server. The
 * runs are started the way the watcher starts them (startRemediation), without waiting for a
 * condition, so each scenario controls its own timing.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { approveSignal, approveUpdate } from '../../domain/messages.ts';
import { conditions, type PolicySpecInput } from '../support/policy-builder.ts';
import { useScenario } from '../support/scenario.ts';

const { scenario } = useScenario('kma');

/** Holds whatever happens, so verification always fails. */
const alwaysHolds = conditions.deploymentUnavailable('always', 0);

const approval = (timeout: string): Partial<PolicySpecInput> => ({
  approval: { required: true, timeout, onTimeout: 'Reject' },
});

/** The scale policy `name` needing approval within 10 minutes, and a run of it awaiting approval. */
async function runAwaitingApproval(t: TestContext, name: string) {
  const s = scenario(t);
  await s.given.scalePolicy(name, approval('10m'));
  await s.when.runStarts();
  await s.then.runReaches('AwaitingApproval');
  return s;
}

describe('approval', () => {
  it('acts once approved by update, and refuses a second decision', { timeout: 90_000 }, async (t) => {
    const s = await runAwaitingApproval(t, 'approve-me');
    await s.then.replicasAre(2, 'nothing changes before approval');
    // When alice approves through the update (straight to Temporal, as `--via-temporal` does)
    const decision = await s.when.approvedByUpdate('alice', 'looks right');
    // Then the update answers with the decision, recorded as unauthenticated, and the run acts and succeeds
    assert.deepEqual(decision, {
      decision: 'approved',
      by: 'alice',
      reason: 'looks right',
      via: 'update',
      channel: 'Temporal update (unauthenticated)',
    });
    // And a second decision is refused by the validator, with the reason
    await assert.rejects(
      s.run.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] }),
      (error: unknown) =>
        error instanceof WorkflowUpdateFailedError && /not awaiting approval/.test(String(error.cause)),
    );
    await s.then.runEndsAs('Succeeded');
    await s.then.replicasAre(3);
    await s.then.historyRecordedAs('approved-by-update');
  });

  it('does nothing when rejected by signal', { timeout: 90_000 }, async (t) => {
    const s = await runAwaitingApproval(t, 'reject-me');
    await s.when.rejectedBySignal('carol', 'not during the sale');
    const result = await s.then.runEndsAs('Rejected', /rejected by carol: not during the sale/);
    // A signal names anyone it likes: the run says so
    assert.equal(result.approval?.channel, 'Temporal signal (unauthenticated)');
    await s.then.replicasAre(2);
    await s.then.historyRecordedAs('rejected-by-signal');
  });

  it('rejects when the deadline passes and onTimeout is Reject', { timeout: 90_000 }, async (t) => {
    const s = scenario(t);
    await s.given.scalePolicy('nobody-answers', approval('2s'));
    await s.when.runStarts();
    await s.then.runEndsAs('Rejected', /no decision within 2s; onTimeout is Reject/);
    await s.then.replicasAre(2);
    await s.then.policyRecords('Rejected');
  });
});

describe('cancel, conflicts and a vanished target', () => {
  it(
    'ends as Skipped, with the reason, when the target is gone before the backup',
    { timeout: 90_000 },
    async (t) => {
      const s = await runAwaitingApproval(t, 'short-lived');
      // When its Deployment is deleted and the run is then approved (by signal: no answer awaited)
      await s.when.deploymentDeleted();
      await s.run.signal(approveSignal, { by: 'erin' });
      await s.then.runEndsAs('Skipped', /^TargetGone: Deployment .*short-lived no longer exists/);
    },
  );

  it('rolls back when cancelled in the middle of a run', { timeout: 90_000 }, async (t) => {
    const s = scenario(t);
    await s.given.scalePolicy('cancel-me', { verification: { settle: '10m' } });
    await s.when.runStarts();
    await s.then.runReaches('Verifying');
    await s.then.replicasAre(3);
    await s.when.cancelledBy('dave', 'wrong target');
    // Then the rollback runs and the Deployment is as it was
    await s.then.runEndsAs('Cancelled', /cancelled by dave \(wrong target\); rollback: RolledBack/);
    await s.then.replicasAre(2);
    await s.then.historyRecordedAs('cancelled-and-rolled-back');
  });

  it('keeps a change made by someone else after the action, and says so', { timeout: 90_000 }, async (t) => {
    const s = scenario(t);
    await s.given.scalePolicy('someone-else', { conditions: [alwaysHolds], verification: { settle: '4s' } });
    await s.when.runStarts();
    await s.then.runReaches('Verifying');
    await s.when.someoneSetsReplicas(7);
    // Then the rollback does not overwrite it, and the run says why
    const result = await s.then.runEndsAs(
      'Failed',
      /RollbackConflict: someone changed the target .*\/spec\/replicas is 7, not the 3 KubeMedic wrote/,
    );
    assert.equal(result.steps[0]?.rollback?.outcome, 'RollbackConflict');
    await s.then.replicasAre(7);
    await s.then.historyRecordedAs('rollback-conflict');
  });
});

/**
 * Approval (approve by update, reject by signal, deadline), cancel in the middle, and a change
 * made by someone else before a rollback — each on a real workflow, worker and API server. The
 * runs are started the way the watcher starts them (startRemediation), without waiting for a
 * condition, so each scenario controls its own timing.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { AppsV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approveSignal, approveUpdate, cancelSignal, rejectSignal } from '../../domain/messages.ts';
import { deploymentUnavailable, readPolicy, useKubeMedic } from '../support/kubemedic.ts';
import { saveHistory } from '../support/histories.ts';
import { givenScalePolicy, inPhase } from '../support/scale-runs.ts';
import { kubeconfig, useTestNamespace } from '../support/stack.ts';
import { readDeployment } from '../support/workloads.ts';

const namespace = useTestNamespace('kma');
const medic = useKubeMedic();

/** Holds whatever happens, so verification always fails. */
const alwaysHolds = deploymentUnavailable('always', 0);

const startRun = async (name: string, spec: Record<string, unknown>) =>
  (await givenScalePolicy(medic, namespace.name, name, spec)).start();
const replicasOf = async (name: string) => (await readDeployment(namespace.name, name)).spec?.replicas;

const approval = (timeout: string) => ({ approval: { required: true, timeout, onTimeout: 'Reject' } });

describe('approval', () => {
  it('acts once approved by update, and refuses a second decision', { timeout: 90_000 }, async () => {
    // Given a run that awaits approval
    const handle = await startRun('approve-me', approval('10m'));
    await inPhase(handle, 'AwaitingApproval');
    assert.equal(await replicasOf('approve-me'), 2, 'nothing changes before approval');
    // When alice approves through the update
    const decision = await handle.executeUpdate(approveUpdate, {
      args: [{ by: 'alice', reason: 'looks right' }],
    });
    // Then the update answers with the decision, and the run acts and succeeds
    assert.deepEqual(decision, { decision: 'approved', by: 'alice', reason: 'looks right', via: 'update' });
    // And a second decision is refused by the validator, with the reason
    await assert.rejects(
      handle.executeUpdate(approveUpdate, { args: [{ by: 'bob' }] }),
      (error: unknown) =>
        error instanceof WorkflowUpdateFailedError && /not awaiting approval/.test(String(error.cause)),
    );
    const result = await handle.result();
    assert.equal(result.outcome, 'Succeeded', result.reason);
    assert.equal(await replicasOf('approve-me'), 3);
    await saveHistory(medic.client, handle.workflowId, 'approved-by-update');
  });

  it('does nothing when rejected by signal', { timeout: 90_000 }, async () => {
    const handle = await startRun('reject-me', approval('10m'));
    await inPhase(handle, 'AwaitingApproval');
    await handle.signal(rejectSignal, { by: 'carol', reason: 'not during the sale' });
    const result = await handle.result();
    assert.equal(result.outcome, 'Rejected');
    assert.match(result.reason, /rejected by carol: not during the sale/);
    assert.equal(await replicasOf('reject-me'), 2);
    await saveHistory(medic.client, handle.workflowId, 'rejected-by-signal');
  });

  it('rejects when the deadline passes and onTimeout is Reject', { timeout: 90_000 }, async () => {
    const handle = await startRun('nobody-answers', approval('2s'));
    const result = await handle.result();
    assert.equal(result.outcome, 'Rejected');
    assert.match(result.reason, /no decision within 2s; onTimeout is Reject/);
    assert.equal(await replicasOf('nobody-answers'), 2);
    const policy = await readPolicy('RemediationPolicy', {
      name: 'nobody-answers',
      namespace: namespace.name,
    });
    assert.equal((policy.status?.lastOutcome as { outcome: string }).outcome, 'Rejected');
  });
});

describe('cancel, conflicts and a vanished target', () => {
  it(
    'ends as Skipped, with the reason, when the target is gone before the backup',
    { timeout: 90_000 },
    async () => {
      // Given a run that awaits approval
      const handle = await startRun('short-lived', approval('10m'));
      await inPhase(handle, 'AwaitingApproval');
      // When its Deployment is deleted and the run is then approved
      await kubeconfig()
        .makeApiClient(AppsV1Api)
        .deleteNamespacedDeployment({ name: 'short-lived', namespace: namespace.name });
      await handle.signal(approveSignal, { by: 'erin' });
      // Then it ends Skipped, saying the target is gone
      const result = await handle.result();
      assert.equal(result.outcome, 'Skipped');
      assert.match(result.reason, /^TargetGone: Deployment .*short-lived no longer exists/);
    },
  );

  it('rolls back when cancelled in the middle of a run', { timeout: 90_000 }, async () => {
    // Given a run that has scaled and is waiting to verify
    const handle = await startRun('cancel-me', { verification: { settle: '10m' } });
    await inPhase(handle, 'Verifying');
    assert.equal(await replicasOf('cancel-me'), 3);
    // When it is cancelled
    await handle.signal(cancelSignal, { by: 'dave', reason: 'wrong target' });
    // Then the rollback runs and the Deployment is as it was
    const result = await handle.result();
    assert.equal(result.outcome, 'Cancelled', result.reason);
    assert.match(result.reason, /cancelled by dave \(wrong target\); rollback: RolledBack/);
    assert.equal(await replicasOf('cancel-me'), 2);
    await saveHistory(medic.client, handle.workflowId, 'cancelled-and-rolled-back');
  });

  it('keeps a change made by someone else after the action, and says so', { timeout: 90_000 }, async () => {
    // Given a run whose verification will fail
    const handle = await startRun('someone-else', {
      conditions: [alwaysHolds],
      verification: { settle: '4s' },
    });
    await inPhase(handle, 'Verifying');
    // When a person sets the replicas to 7 before the rollback
    await kubeconfig()
      .makeApiClient(AppsV1Api)
      .patchNamespacedDeploymentScale({
        name: 'someone-else',
        namespace: namespace.name,
        body: [{ op: 'replace', path: '/spec/replicas', value: 7 }],
      });
    // Then the rollback does not overwrite it, and the run says why
    const result = await handle.result();
    assert.equal(result.outcome, 'Failed');
    assert.equal(result.steps[0]?.rollback?.outcome, 'RollbackConflict');
    assert.match(
      result.reason,
      /RollbackConflict: someone changed the target .*\/spec\/replicas is 7, not the 3 KubeMedic wrote/,
    );
    assert.equal(await replicasOf('someone-else'), 7);
    await saveHistory(medic.client, handle.workflowId, 'rollback-conflict');
  });
});

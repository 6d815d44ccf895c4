/**
 * Decisions through Kubernetes RBAC (docs/approvals.md): a RemediationDecision approves, rejects
 * or cancels a run, the API server vouches for its creator (RBAC on the resource, and the
 * admission policy that requires spec.decidedBy == request.userInfo.username), and the watcher's
 * relay hands it to the run and records what happened. A RemediationPause pauses this file's
 * own cluster governor (a cluster name of its own: no other file's runs are held).
 *
 * People are ServiceAccounts with exactly the rights each test gives them, reached by
 * impersonation from the admin's credentials, as `kubectl --as` does.
 */
import { ApiException, CustomObjectsApi } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import {
  createDecision,
  createPause,
  deletePause,
  readDecision,
  readPause,
  whoAmI,
} from '../../domain/kube/decisions.ts';
import { asServiceAccount } from '../../domain/kube/impersonation.ts';
import { globalGovernorId, governorStatusQuery } from '../../domain/governor.ts';
import { statusQuery } from '../../domain/messages.ts';
import { failedWith } from '../../domain/kube/errors.ts';
import { kubemedic } from '../support/cli.ts';
import { useDecisionRelays } from '../support/decision-relays.ts';
import type { PolicySpecInput } from '../support/policy-builder.ts';
import { useScenario } from '../support/scenario.ts';
import { givenServiceAccount } from '../support/service-accounts.ts';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';

const { scenario, namespace, medic } = useScenario('kmdec');
const elsewhere = useTestNamespace('kmdecb');
useDecisionRelays(medic);

const approval: Partial<PolicySpecInput> = {
  approval: { required: true, timeout: '10m', onTimeout: 'Reject' },
};
const mayDecide = [
  { apiGroups: ['remediation.kubemedic.io'], resources: ['remediationdecisions'], verbs: ['create', 'get'] },
];

/** A ServiceAccount of `ns` allowed to create decisions there, as a kubeconfig impersonating it. */
async function decider(ns: string, name: string) {
  await givenServiceAccount(ns, name, mayDecide);
  const config = asServiceAccount(kubeconfig(), ns, name);
  assert.ok(config);
  return { config, username: `system:serviceaccount:${ns}:${name}` };
}

/** The decision's status once the relay has written it. */
const answered = (ns: string, name: string) =>
  eventually(`decision ${ns}/${name} to be answered`, async () => {
    const decision = await readDecision(kubeconfig(), ns, name);
    return decision.status?.phase ? decision.status : undefined;
  });

async function awaitingApproval(t: TestContext, name: string) {
  const s = scenario(t);
  await s.given.scalePolicy(name, approval);
  await s.when.runStarts();
  await s.then.runReaches('AwaitingApproval');
  return s;
}

describe('decisions through RBAC', () => {
  it(
    'approves by a RemediationDecision, recording the API server’s username',
    { timeout: 120_000 },
    async (t) => {
      const s = await awaitingApproval(t, 'approve-by-resource');
      const alice = await decider(namespace.name, 'alice');
      // When alice creates an approval naming the run (decidedBy from a SelfSubjectReview, as the CLI does)
      const decision = await createDecision(alice.config, namespace.name, {
        workflowId: s.run.workflowId,
        decision: 'approve',
        reason: 'looks right',
      });
      assert.equal(decision.spec.decidedBy, alice.username);
      // Then the relay says the run took it, and the run acts and succeeds
      const status = await answered(namespace.name, decision.metadata.name);
      assert.equal(status.phase, 'Relayed', status.reason);
      assert.equal(status.workflowId, s.run.workflowId);
      await s.then.runEndsAs('Succeeded');
      await s.then.replicasAre(3);
      await s.then.historyRecordedAs('approved-by-decision');
      // And the run recorded the API server's username and the channel
      const run = await s.run.query(statusQuery);
      assert.deepEqual(run.approval, {
        decision: 'approved',
        by: alice.username,
        reason: 'looks right',
        via: 'update',
        channel: `RemediationDecision ${namespace.name}/${decision.metadata.name}`,
      });
    },
  );

  it(
    'refuses, at the API server, someone without RBAC on decisions and a forged decidedBy',
    { timeout: 120_000 },
    async (t) => {
      const s = await awaitingApproval(t, 'refuse-strangers');
      // Given mallory, a ServiceAccount of the namespace with no rights on decisions
      await givenServiceAccount(namespace.name, 'mallory', []);
      const mallory = asServiceAccount(kubeconfig(), namespace.name, 'mallory');
      assert.ok(mallory);
      // When she tries to approve, Then RBAC refuses (403)
      await assert.rejects(
        createDecision(mallory, namespace.name, { workflowId: s.run.workflowId, decision: 'approve' }),
        (error: unknown) => failedWith(error, 403),
      );
      // When bob, who may decide, writes someone else's name, Then the admission policy refuses
      const bob = await decider(namespace.name, 'bob');
      await assert.rejects(
        createDecision(bob.config, namespace.name, {
          workflowId: s.run.workflowId,
          decision: 'approve',
          decidedBy: 'the-cto',
        }),
        (error: unknown) =>
          error instanceof ApiException &&
          /decided-by.*spec\.decidedBy must be your own username, system:serviceaccount:.*:bob, not the-cto/.test(
            String(error.body),
          ),
      );
      // And the run still waits for a decision
      assert.equal((await s.run.query(statusQuery)).phase, 'AwaitingApproval');
      // And a decision is immutable once made
      const rejection = await createDecision(bob.config, namespace.name, {
        workflowId: s.run.workflowId,
        decision: 'reject',
        reason: 'not now',
      });
      await s.then.runEndsAs('Rejected', /rejected by system:serviceaccount:.*:bob: not now/);
      await assert.rejects(
        kubeconfig()
          .makeApiClient(CustomObjectsApi)
          .patchNamespacedCustomObject({
            group: 'remediation.kubemedic.io',
            version: 'v1alpha1',
            plural: 'remediationdecisions',
            namespace: namespace.name,
            name: rejection.metadata.name,
            body: [{ op: 'replace', path: '/spec/decision', value: 'approve' }],
          }),
        (error: unknown) => /immutable/.test(String((error as ApiException<unknown>).body)),
      );
    },
  );

  it('does not let a decision in another namespace decide the run', { timeout: 120_000 }, async (t) => {
    const s = await awaitingApproval(t, 'other-namespace');
    // Given carol, who may decide in another namespace only
    const carol = await decider(elsewhere.name, 'carol');
    // When she approves this namespace's run from hers
    const decision = await createDecision(carol.config, elsewhere.name, {
      workflowId: s.run.workflowId,
      decision: 'approve',
    });
    // Then the relay refuses it, saying why, and the run still waits
    const status = await answered(elsewhere.name, decision.metadata.name);
    assert.equal(status.phase, 'Refused');
    assert.match(
      status.reason,
      new RegExp(`namespace ${elsewhere.name} cannot decide a run of namespace ${namespace.name}`),
    );
    assert.equal((await s.run.query(statusQuery)).phase, 'AwaitingApproval');
    // When someone of the run's namespace cancels it by policy and target instead of its ID
    const dave = await decider(namespace.name, 'dave');
    const cancel = await createDecision(dave.config, namespace.name, {
      policy: 'other-namespace',
      target: { kind: 'Deployment', name: 'other-namespace' },
      // The API server is shared with other KubeMedic clusters (other files, benchmarks): name ours
      cluster: medic.cluster,
      decision: 'cancel',
      reason: 'wrong target',
    });
    // Then the run is cancelled, naming who and through what
    const cancelled = await answered(namespace.name, cancel.metadata.name);
    assert.equal(cancelled.phase, 'Relayed', cancelled.reason);
    await s.then.runEndsAs(
      'Cancelled',
      new RegExp(
        `cancelled by system:serviceaccount:${namespace.name}:dave via RemediationDecision ${namespace.name}/${cancel.metadata.name} \\(wrong target\\)`,
      ),
    );
    await s.then.historyRecordedAs('cancelled-by-decision');
  });
});

describe('the pause as a resource', () => {
  it(
    'pauses this cluster’s governor while it exists, and resumes when deleted',
    { timeout: 120_000 },
    async (t) => {
      const governor = medic.client.workflow.getHandle(globalGovernorId(medic.cluster));
      const name = `pause-${medic.cluster}`;
      const admin = await whoAmI(kubeconfig());
      // When the admin declares a pause for this file's cluster only
      await createPause(kubeconfig(), name, { cluster: medic.cluster, reason: 'maintenance' });
      t.after(() => deletePause(kubeconfig(), name).catch(() => undefined));
      // Then the governor holds it, and the resource says so
      const paused = await eventually('the governor to hold the pause', async () => {
        const status = await governor.query(governorStatusQuery).catch(() => undefined);
        return status?.paused;
      });
      assert.deepEqual(paused, { by: admin, reason: `RemediationPause ${name}: maintenance` });
      const resource = await eventually(
        'the pause status',
        async () => (await readPause(kubeconfig(), name)).status,
      );
      assert.equal(resource.phase, 'Paused');
      // And a new run is refused a permit, with the pause named
      const s = scenario(t);
      await s.given.scalePolicy('paused-run');
      await s.when.runStarts();
      await s.then.runEndsAs(
        'Skipped',
        new RegExp(`paused by ${admin}: RemediationPause ${name}: maintenance`),
      );
      await s.then.replicasAre(2);
      // When the pause is deleted, Then the governor resumes and the resource goes (its finalizer removed)
      await deletePause(kubeconfig(), name);
      await eventually('the governor to resume', async () =>
        (await governor.query(governorStatusQuery)).paused === undefined ? true : undefined,
      );
      await eventually('the pause to be gone', () =>
        readPause(kubeconfig(), name).then(
          () => undefined,
          (error: unknown) => (failedWith(error, 404) ? true : undefined),
        ),
      );
    },
  );
});

describe('the CLI decides and pauses through these resources by default', () => {
  it(
    'approves as the kubeconfig’s user, refuses --by without --via-temporal, and pauses and resumes',
    { timeout: 180_000 },
    async (t) => {
      const cli = (...args: string[]) => kubemedic([...args, '--cluster', medic.cluster]);
      const admin = await whoAmI(kubeconfig());
      const s = await awaitingApproval(t, 'cli-approves');
      // When someone tries to name another decider, Then it is a usage error (exit 2)
      const named = await cli('approve', s.run.workflowId, '--by', 'the-cto');
      assert.equal(named.code, 2, named.stderr);
      assert.match(named.stderr, /--by goes with --via-temporal only/);
      // When the admin approves with the CLI, Then it answers with the run's own record of it
      const approved = await cli('approve', s.run.workflowId, '--reason', 'ok');
      assert.equal(approved.code, 0, approved.stderr);
      assert.match(
        approved.stdout,
        new RegExp(`approved by ${admin} via RemediationDecision ${namespace.name}/approve-`),
      );
      await s.then.runEndsAs('Succeeded');
      // When the cluster is paused with the CLI, Then this file's governor holds it, by the admin
      const paused = await cli('pause', '--reason', 'cli');
      assert.equal(paused.code, 0, paused.stderr);
      assert.match(paused.stdout, new RegExp(`paused by ${admin} \\(RemediationPause pause-`));
      const governor = medic.client.workflow.getHandle(globalGovernorId(medic.cluster));
      assert.equal((await governor.query(governorStatusQuery)).paused?.by, admin);
      // When it is resumed, Then the pause is gone and the governor holds none
      const resumed = await cli('resume');
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, /resumed: deleted RemediationPause pause-/);
      assert.equal((await governor.query(governorStatusQuery)).paused, undefined);
    },
  );
});

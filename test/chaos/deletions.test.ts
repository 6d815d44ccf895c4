/**
 * Chaos: what a run was about disappears under it. A deleted policy or target is an outcome,
 * not an error: the run ends, says why, and releases its permit.
 */
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { group, policyKinds, version } from '../../api/policy.ts';
import { governorStatusQuery, policyGovernorId } from '../../domain/governor.ts';
import { conditions } from '../support/policy-builder.ts';
import { useScenario } from '../support/scenario.ts';
import { eventually, kubeconfig } from '../support/stack.ts';

const { namespace, medic, scenario } = useScenario('kmd');

/** The run's permit is back: the policy's governor holds nothing. */
async function noPermitHeld(policy: string) {
  const governor = medic.client.workflow.getHandle(
    policyGovernorId(medic.cluster, `${namespace.name}/${policy}`),
  );
  await eventually('the permit to be released', async () => {
    const status = await governor.query(governorStatusQuery);
    return status.active.length === 0 && status.queued === 0 ? true : undefined;
  });
}

describe('chaos: deleted during a run', () => {
  it(
    'a policy deleted while its run verifies: the run ends and the Events say so',
    { timeout: 180_000 },
    async (t) => {
      const { given, when, then } = scenario(t);
      await given.scalePolicy('orphaned', { verification: { settle: '8s' } });
      await when.runStarts();
      await then.runReaches('Verifying');
      // When the policy is deleted
      await kubeconfig().makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({
        group,
        version,
        plural: policyKinds.RemediationPolicy.plural,
        namespace: namespace.name,
        name: 'orphaned',
      });
      // Then the run still ends with its outcome, recorded where the policy no longer is
      await then.runEndsAs('Succeeded');
      const events = await kubeconfig()
        .makeApiClient(CoreV1Api)
        .listNamespacedEvent({ namespace: namespace.name });
      const outcome = events.items.find(
        (e) =>
          e.involvedObject.name === 'orphaned' &&
          e.involvedObject.kind === 'Deployment' &&
          e.reason === 'RemediationSucceeded',
      );
      assert.match(outcome?.message ?? '', /the policy was deleted during the run/);
      await noPermitHeld('orphaned');
    },
  );

  it(
    'a target deleted while its run verifies: the run ends Skipped as TargetGone, having nothing to restore',
    { timeout: 180_000 },
    async (t) => {
      const { given, when, then } = scenario(t);
      await given.scalePolicy('vanishing', { verification: { settle: '8s' } });
      await when.runStarts();
      await then.runReaches('Verifying');
      await when.deploymentDeleted();
      const result = await then.runEndsAs(
        'Skipped',
        /^TargetGone: Deployment .*\/vanishing no longer exists: nothing to restore; the run stops here$/,
      );
      assert.equal(result.steps[0]?.rollback?.outcome, 'NothingToRestore');
      await noPermitHeld('vanishing');
    },
  );

  it(
    'a target labelled protected while its run verifies: the rollback writes nothing and says why',
    { timeout: 180_000 },
    async (t) => {
      const { given, when, then } = scenario(t);
      // Given a run whose verification will fail (the condition always holds), so it will roll back
      await given.scalePolicy('guarded', {
        conditions: [conditions.deploymentUnavailable('always', 0)],
        verification: { settle: '8s' },
      });
      await when.runStarts();
      await then.runReaches('Verifying');
      // When someone labels the Deployment protected before the rollback
      await kubeconfig()
        .makeApiClient(AppsV1Api)
        .patchNamespacedDeployment({
          name: 'guarded',
          namespace: namespace.name,
          body: [{ op: 'add', path: '/metadata/labels/kubemedic.io~1protected', value: 'true' }],
        });
      // Then the rollback leaves it as it is now and the outcome says so
      const result = await then.runEndsAs(
        'RolledBack',
        /not every one could be undone \(Scale: NotReversible: not restored: .*protected/,
      );
      assert.equal(result.steps[0]?.rollback?.outcome, 'NotReversible');
      await then.replicasAre(3, 'the scaled replicas stay: KubeMedic no longer writes to it');
    },
  );
});

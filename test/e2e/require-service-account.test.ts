/**
 * requireServiceAccount (the chart value, KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT): every namespaced
 * policy must name a ServiceAccount to act as. One without is Invalid in the watcher and refused
 * again by the worker at execute; one with acts as that ServiceAccount — the worker, itself
 * running as the chart's ServiceAccount, impersonates it through the chart's only impersonate rule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readPolicy } from '../support/kubemedic.ts';
import { conditions, type PolicySpecInput, scale } from '../support/policy-builder.ts';
import { useScenario } from '../support/scenario.ts';
import { givenServiceAccount } from '../support/service-accounts.ts';
import { eventually } from '../support/stack.ts';

const { namespace, scenario } = useScenario('kmsa', { workerOptions: { requireServiceAccount: true } });

/** Everything but the target and the ServiceAccount: scale to 2, verified without data. */
const scaleTo2 = {
  conditions: [conditions.podPending('pending')],
  actions: [scale({ replicas: 2 })],
  verification: { settle: '1s', conditions: [], onNoData: 'Pass' },
  cooldown: '1s',
} satisfies Omit<PolicySpecInput, 'target'>;

interface StatusView {
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

describe('requireServiceAccount', () => {
  it(
    'a namespaced policy without a ServiceAccount is Invalid, and refused at execute',
    { timeout: 90_000 },
    async (t) => {
      const s = scenario(t);
      // Given a KubeMedic that requires ServiceAccounts, and a policy that names none
      await s.given.deployment('no-sa', 1);
      await s.given.policy('no-sa', { target: { kind: 'Deployment', name: 'no-sa' }, ...scaleTo2 });
      // When the watcher evaluates it
      await s.given.watcher();
      // Then its status says Invalid, with the reason
      const ready = await eventually('the policy to be reported Invalid', async () => {
        const status = (await readPolicy('RemediationPolicy', { name: 'no-sa', namespace: namespace.name }))
          .status as StatusView | undefined;
        return status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'Invalid');
      });
      assert.equal(ready.status, 'False');
      assert.match(ready.message, /spec\.serviceAccountName is required/);

      // When a run is started for it all the same (as a forged or older start would be)
      await s.when.runStarts();
      // Then the worker refuses before it backs up or changes anything
      await s.then.runEndsAs(
        'Failed',
        new RegExp(
          `^Forbidden: RemediationPolicy ${namespace.name}/no-sa: spec\\.serviceAccountName is required`,
        ),
      );
      await s.then.replicasAre(1);
    },
  );

  it(
    'a policy naming a ServiceAccount acts as it, through the chart worker identity',
    { timeout: 90_000 },
    async (t) => {
      const s = scenario(t);
      // Given a ServiceAccount of the tenant that may scale its Deployments
      await givenServiceAccount(namespace.name, 'scaler', [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] },
      ]);
      await s.given.deployment('with-sa', 1);
      await s.given.policy('with-sa', {
        target: { kind: 'Deployment', name: 'with-sa' },
        serviceAccountName: 'scaler',
        ...scaleTo2,
      });
      // When a run scales it
      await s.when.runStarts();
      // Then it succeeded, and the Deployment was changed by the ServiceAccount's rights
      await s.then.runEndsAs('Succeeded');
      await s.then.replicasAre(2);
    },
  );
});

/**
 * requireServiceAccount (the chart value, KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT): every namespaced
 * policy must name a ServiceAccount to act as. One without is Invalid in the watcher and refused
 * again by the worker at execute; one with acts as that ServiceAccount — the worker, itself
 * running as the chart's ServiceAccount, impersonates it through the chart's only impersonate rule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPolicy, readPolicy, startRunNow, useKubeMedic } from '../support/kubemedic.ts';
import { eventually, useTestNamespace } from '../support/stack.ts';
import { givenServiceAccount } from '../support/service-accounts.ts';
import { createDeployment, readDeployment } from '../support/workloads.ts';
import type { PolicySpecInput } from '../support/policy-builder.ts';

const namespace = useTestNamespace('kmsa');
const medic = useKubeMedic({ workerOptions: { requireServiceAccount: true } });

const scaleTo2 = {
  conditions: [{ name: 'pending', source: 'Kubernetes', kubernetes: { state: 'PodPending' }, threshold: 5 }],
  actions: [{ type: 'Scale', scale: { replicas: 2 } }],
  verification: { settle: '1s', conditions: [], onNoData: 'Pass' },
  cooldown: '1s',
} satisfies Partial<PolicySpecInput>;

interface StatusView {
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

describe('requireServiceAccount', () => {
  it(
    'a namespaced policy without a ServiceAccount is Invalid, and refused at execute',
    { timeout: 90_000 },
    async () => {
      // Given a KubeMedic that requires ServiceAccounts, and a policy that names none
      await createDeployment(namespace.name, 'no-sa', 1);
      const metadata = { name: 'no-sa', namespace: namespace.name };
      await createPolicy('RemediationPolicy', metadata, {
        target: { kind: 'Deployment', name: 'no-sa' },
        ...scaleTo2,
      });
      // When the watcher evaluates it
      await medic.startWatcher();
      // Then its status says Invalid, with the reason
      const ready = await eventually('the policy to be reported Invalid', async () => {
        const status = (await readPolicy('RemediationPolicy', metadata)).status as StatusView | undefined;
        return status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'Invalid');
      });
      assert.equal(ready.status, 'False');
      assert.match(ready.message, /spec\.serviceAccountName is required/);

      // When a run is started for it all the same (as a forged or older start would be)
      const result = await (
        await startRunNow(medic, metadata, { kind: 'Deployment', namespace: namespace.name, name: 'no-sa' })
      ).result();
      // Then the worker refuses before it backs up or changes anything
      assert.equal(result.outcome, 'Failed');
      assert.match(
        result.reason,
        new RegExp(
          `^Forbidden: RemediationPolicy ${namespace.name}/no-sa: spec\\.serviceAccountName is required`,
        ),
      );
      assert.equal((await readDeployment(namespace.name, 'no-sa')).spec?.replicas, 1);
    },
  );

  it(
    'a policy naming a ServiceAccount acts as it, through the chart worker identity',
    { timeout: 90_000 },
    async () => {
      // Given a ServiceAccount of the tenant that may scale its Deployments
      await givenServiceAccount(namespace.name, 'scaler', [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] },
      ]);
      await createDeployment(namespace.name, 'with-sa', 1);
      const metadata = { name: 'with-sa', namespace: namespace.name };
      await createPolicy('RemediationPolicy', metadata, {
        target: { kind: 'Deployment', name: 'with-sa' },
        serviceAccountName: 'scaler',
        ...scaleTo2,
      });
      // When a run scales it
      const result = await (
        await startRunNow(medic, metadata, { kind: 'Deployment', namespace: namespace.name, name: 'with-sa' })
      ).result();
      // Then it succeeded, and the Deployment was changed by the ServiceAccount's rights
      assert.equal(result.outcome, 'Succeeded', result.reason);
      assert.equal((await readDeployment(namespace.name, 'with-sa')).spec?.replicas, 2);
    },
  );
});

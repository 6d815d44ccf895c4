/**
 * What KubeMedic must never touch, checked before every backup and execute: protected
 * namespaces and objects, another tenant's namespace, and what the policy's own ServiceAccount
 * may not do.
 */
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { skipsTotal } from '../../activities/metrics.ts';
import { group, version } from '../../api/policy.ts';
import type { TargetRef } from '../../domain/run.ts';
import { createPolicy, startRunNow, useKubeMedic } from '../support/kubemedic.ts';
import { kubeconfig, useTestNamespace } from '../support/stack.ts';
import { givenServiceAccount } from '../support/service-accounts.ts';
import { createAvailableDeployment, createDeployment, readDeployment } from '../support/workloads.ts';

const namespace = useTestNamespace('kmp');
const medic = useKubeMedic();
const core = () => kubeconfig().makeApiClient(CoreV1Api);
const apps = () => kubeconfig().makeApiClient(AppsV1Api);

const scaleTo3 = {
  conditions: [{ name: 'pending', source: 'Kubernetes', kubernetes: { state: 'PodPending' }, threshold: 5 }],
  actions: [{ type: 'Scale', scale: { replicas: 3 } }],
  verification: { settle: '1s', conditions: [], onNoData: 'Pass' },
  cooldown: '1s',
};

/** Starts a run of a cluster policy for `target`, as the watcher would. */
async function runClusterPolicy(name: string, target: TargetRef) {
  await createPolicy(
    'ClusterRemediationPolicy',
    { name },
    {
      target: { kind: target.kind, name: target.name, namespaces: [target.namespace] },
      ...scaleTo3,
    },
  );
  return (await startRunNow(medic, { name }, target)).result();
}

describe('protected resources', () => {
  const systemDeployment = `kmp-${randomBytes(3).toString('hex')}`;
  after(() =>
    apps()
      .deleteNamespacedDeployment({ namespace: 'kube-system', name: systemDeployment })
      .catch(() => undefined),
  );

  it(
    'changes nothing in kube-system, even for a cluster policy aimed there',
    { timeout: 60_000 },
    async () => {
      // Given a Deployment in kube-system and a cluster policy aimed at it
      await createDeployment('kube-system', systemDeployment, 1);
      // When a run starts for it
      const result = await runClusterPolicy(`${systemDeployment}-policy`, {
        kind: 'Deployment',
        namespace: 'kube-system',
        name: systemDeployment,
      });
      // Then it is Skipped as protected, and the Deployment is untouched
      assert.equal(result.outcome, 'Skipped');
      assert.match(
        result.reason,
        /^Protected: Deployment kube-system\/.* is in the protected namespace kube-system$/,
      );
      assert.equal((await readDeployment('kube-system', systemDeployment)).spec?.replicas, 1);
      // And the skip is counted by reason
      const skips = await skipsTotal.get();
      assert.ok(
        skips.values.some((v) => v.labels.reason === 'Protected' && v.value >= 1),
        JSON.stringify(skips.values),
      );
    },
  );

  it(
    'changes nothing labelled kubemedic.io/protected=true, on the object or its namespace',
    { timeout: 60_000 },
    async () => {
      // Given a protected Deployment in an ordinary namespace
      await createDeployment(namespace.name, 'precious', 1);
      await apps().patchNamespacedDeployment({
        namespace: namespace.name,
        name: 'precious',
        body: [{ op: 'add', path: '/metadata/labels/kubemedic.io~1protected', value: 'true' }],
      });
      const target = { kind: 'Deployment' as const, namespace: namespace.name, name: 'precious' };
      await createPolicy(
        'RemediationPolicy',
        { name: 'precious', namespace: namespace.name },
        { target: { kind: 'Deployment', name: 'precious' }, ...scaleTo3 },
      );
      const onObject = await (
        await startRunNow(medic, { name: 'precious', namespace: namespace.name }, target)
      ).result();
      assert.equal(onObject.outcome, 'Skipped');
      assert.match(onObject.reason, /is labelled kubemedic\.io\/protected=true/);

      // And a whole namespace labelled protected
      const guarded = `kmp-guarded-${randomBytes(3).toString('hex')}`;
      await core().createNamespace({
        body: { metadata: { name: guarded, labels: { 'kubemedic.io/protected': 'true' } } },
      });
      try {
        await createDeployment(guarded, 'inside', 1);
        const inNamespace = await runClusterPolicy(guarded, {
          kind: 'Deployment',
          namespace: guarded,
          name: 'inside',
        });
        assert.equal(inNamespace.outcome, 'Skipped');
        assert.match(
          inNamespace.reason,
          new RegExp(`namespace ${guarded} is labelled kubemedic.io/protected=true`),
        );
        assert.equal((await readDeployment(guarded, 'inside')).spec?.replicas, 1);
      } finally {
        await core().deleteNamespace({ name: guarded });
      }
      assert.equal((await readDeployment(namespace.name, 'precious')).spec?.replicas, 1);
    },
  );
});

describe('tenancy', () => {
  it("refuses a namespaced policy's run on another namespace at execute", { timeout: 60_000 }, async () => {
    // Given tenant A's policy and tenant B's Deployment
    const other = `kmp-b-${randomBytes(3).toString('hex')}`;
    await core().createNamespace({ body: { metadata: { name: other } } });
    try {
      await createDeployment(other, 'theirs', 1);
      const metadata = { name: 'mine', namespace: namespace.name };
      await createPolicy('RemediationPolicy', metadata, {
        target: { kind: 'Deployment', name: 'theirs' },
        ...scaleTo3,
      });
      // When a run is started for B's Deployment anyway (a forged start; the watcher never does this)
      const result = await (
        await startRunNow(medic, metadata, { kind: 'Deployment', namespace: other, name: 'theirs' })
      ).result();
      // Then it is refused, saying why, and B's Deployment is untouched
      assert.equal(result.outcome, 'Failed');
      assert.match(
        result.reason,
        new RegExp(
          `^Forbidden: RemediationPolicy ${namespace.name}/mine may act only in namespace ${namespace.name}`,
        ),
      );
      assert.equal((await readDeployment(other, 'theirs')).spec?.replicas, 1);
    } finally {
      await core().deleteNamespace({ name: other });
    }
  });

  it('refuses a target namespace in a namespaced policy at admission (strict field validation)', async () => {
    const body = {
      apiVersion: `${group}/${version}`,
      kind: 'RemediationPolicy',
      metadata: { name: 'elsewhere', namespace: namespace.name },
      spec: { target: { kind: 'Deployment', name: 'x', namespace: 'kube-system' }, ...scaleTo3 },
    };
    await assert.rejects(
      kubeconfig().makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
        group,
        version,
        namespace: namespace.name,
        plural: 'remediationpolicies',
        body,
        fieldValidation: 'Strict',
      }),
      (error: unknown) =>
        /unknown field \\?"spec\.target\.namespace\\?"/.test(
          String((error as { body?: unknown }).body ?? error),
        ),
    );
  });

  /** What a run may have changed: the Deployment's replicas and its pods (by uid). */
  const workloadState = async (name: string) => ({
    replicas: (await readDeployment(namespace.name, name)).spec?.replicas,
    pods: (await core().listNamespacedPod({ namespace: namespace.name, labelSelector: `app=${name}` })).items
      .map((pod) => pod.metadata?.uid)
      .sort(),
  });

  const forbiddenCases = [
    {
      what: 'may read Deployments but not change them, and the run scales',
      serviceAccount: 'reader',
      rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] }],
      policy: scaleTo3,
      refused: 'cannot patch resource "deployments"',
    },
    {
      // A pod restart is an eviction (so PodDisruptionBudgets hold): the right it needs is to
      // create pods/eviction, which this ServiceAccount lacks, as it lacks delete
      what: 'may read Deployments and pods but not take pods away, and the run restarts one',
      serviceAccount: 'no-evicter',
      rules: [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
      ],
      policy: { ...scaleTo3, actions: [{ type: 'RestartPod' }] },
      refused: 'cannot create resource "pods/eviction"',
    },
  ];
  for (const { what, serviceAccount, rules, policy, refused } of forbiddenCases) {
    it(
      `acts as the policy's ServiceAccount: one that ${what} gets Forbidden, explained, and nothing changes`,
      { timeout: 90_000 },
      async () => {
        // Given a ServiceAccount with just these rights, and a policy acting as it on a Deployment
        await givenServiceAccount(namespace.name, serviceAccount, rules);
        const name = `guarded-${serviceAccount}`;
        await createAvailableDeployment(namespace.name, name, 1);
        const before = await workloadState(name);
        const metadata = { name: `as-${serviceAccount}`, namespace: namespace.name };
        await createPolicy('RemediationPolicy', metadata, {
          target: { kind: 'Deployment', name },
          serviceAccountName: serviceAccount,
          ...policy,
        });
        // When a run acts
        const target = { kind: 'Deployment', namespace: namespace.name, name } as const;
        const result = await (await startRunNow(medic, metadata, target)).result();
        // Then the API server refused the ServiceAccount, the run says so, and nothing changed
        assert.equal(result.outcome, 'Failed');
        assert.match(result.reason, /^Forbidden: /);
        assert.ok(
          result.reason.includes(`system:serviceaccount:${namespace.name}:${serviceAccount}`) &&
            result.reason.includes(refused),
          result.reason,
        );
        assert.deepEqual(await workloadState(name), before);
      },
    );
  }
});

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
import { givenServiceAccount } from '../support/service-accounts.ts';
import { conditions, type PolicySpecInput, scale } from '../support/policy-builder.ts';
import { useScenario } from '../support/scenario.ts';
import { kubeconfig } from '../support/stack.ts';
import { readDeployment } from '../support/workloads.ts';

const { namespace, scenario } = useScenario('kmp');
const core = () => kubeconfig().makeApiClient(CoreV1Api);
const apps = () => kubeconfig().makeApiClient(AppsV1Api);

/** Everything but the target: scale to 3, and a verification that passes without data. */
const scaleTo3 = {
  conditions: [conditions.podPending('pending')],
  actions: [scale({ replicas: 3 })],
  verification: { settle: '1s', conditions: [], onNoData: 'Pass' },
  cooldown: '1s',
} satisfies Omit<PolicySpecInput, 'target'>;

/** A cluster policy aimed at the Deployment `name` in `inNamespace`. */
const clusterPolicyOn = (name: string, inNamespace: string): PolicySpecInput<'ClusterRemediationPolicy'> => ({
  target: { kind: 'Deployment', name, namespaces: [inNamespace] },
  ...scaleTo3,
});

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
    async (t) => {
      const s = scenario(t);
      await s.given.deployment(systemDeployment, 1, { namespace: 'kube-system' });
      await s.given.clusterPolicy(
        `${systemDeployment}-policy`,
        clusterPolicyOn(systemDeployment, 'kube-system'),
      );
      await s.when.runStarts();
      // Then it is Skipped as protected, and the Deployment is untouched
      await s.then.runEndsAs(
        'Skipped',
        /^Protected: Deployment kube-system\/.* is in the protected namespace kube-system$/,
      );
      await s.then.replicasAre(1);
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
    async (t) => {
      // Given a protected Deployment in an ordinary namespace
      const onObject = scenario(t);
      await onObject.given.deployment('precious', 1);
      await apps().patchNamespacedDeployment({
        namespace: namespace.name,
        name: 'precious',
        body: [{ op: 'add', path: '/metadata/labels/kubemedic.io~1protected', value: 'true' }],
      });
      await onObject.given.policy('precious', {
        target: { kind: 'Deployment', name: 'precious' },
        ...scaleTo3,
      });
      await onObject.when.runStarts();
      await onObject.then.runEndsAs('Skipped', /is labelled kubemedic\.io\/protected=true/);

      // And a whole namespace labelled protected
      const guarded = `kmp-guarded-${randomBytes(3).toString('hex')}`;
      await core().createNamespace({
        body: { metadata: { name: guarded, labels: { 'kubemedic.io/protected': 'true' } } },
      });
      try {
        const inNamespace = scenario(t);
        await inNamespace.given.deployment('inside', 1, { namespace: guarded });
        await inNamespace.given.clusterPolicy(guarded, clusterPolicyOn('inside', guarded));
        await inNamespace.when.runStarts();
        await inNamespace.then.runEndsAs(
          'Skipped',
          new RegExp(`namespace ${guarded} is labelled kubemedic.io/protected=true`),
        );
        await inNamespace.then.replicasAre(1);
      } finally {
        await core().deleteNamespace({ name: guarded });
      }
      await onObject.then.replicasAre(1);
    },
  );
});

describe('tenancy', () => {
  it(
    "refuses a namespaced policy's run on another namespace before it writes anything",
    { timeout: 60_000 },
    async (t) => {
      // Given tenant A's policy and tenant B's Deployment
      const other = `kmp-b-${randomBytes(3).toString('hex')}`;
      await core().createNamespace({ body: { metadata: { name: other } } });
      try {
        const s = scenario(t);
        await s.given.deployment('theirs', 1, { namespace: other });
        await s.given.policy('mine', { target: { kind: 'Deployment', name: 'theirs' }, ...scaleTo3 });
        // When a run is started for B's Deployment anyway (a forged start; the watcher never does this)
        await s.when.runStarts();
        // Then its policy check refuses it, saying why (the write guard would be the second line),
        // and B's Deployment is untouched
        await s.then.runEndsAs(
          'Skipped',
          new RegExp(
            `^PolicyMismatch: RemediationPolicy ${namespace.name}/mine may act only in namespace ${namespace.name}, not on Deployment ${other}/theirs`,
          ),
        );
        await s.then.replicasAre(1);
      } finally {
        await core().deleteNamespace({ name: other });
      }
    },
  );

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
      policy: { ...scaleTo3, actions: [{ type: 'RestartPod' as const }] },
      refused: 'cannot create resource "pods/eviction"',
    },
  ];
  for (const { what, serviceAccount, rules, policy, refused } of forbiddenCases) {
    it(
      `acts as the policy's ServiceAccount: one that ${what} gets Forbidden, explained, and nothing changes`,
      { timeout: 90_000 },
      async (t) => {
        // Given a ServiceAccount with just these rights, and a policy acting as it on a Deployment
        const s = scenario(t);
        await givenServiceAccount(namespace.name, serviceAccount, rules);
        const name = `guarded-${serviceAccount}`;
        await s.given.availableDeployment(name, 1);
        const before = await workloadState(name);
        await s.given.policy(`as-${serviceAccount}`, {
          target: { kind: 'Deployment', name },
          serviceAccountName: serviceAccount,
          ...policy,
        });
        // When a run acts
        await s.when.runStarts();
        // Then the API server refused the ServiceAccount, the run says so, and nothing changed
        const result = await s.then.runEndsAs('Failed', /^Forbidden: /);
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

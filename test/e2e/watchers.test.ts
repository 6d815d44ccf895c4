/**
 * The policy watcher as operators run it: several replicas without leader election, and a bad
 * policy next to good ones.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { searchAttributes } from '../../domain/search-attributes.ts';
import { createPolicy, readPolicy, useKubeMedic } from '../support/kubemedic.ts';
import { remoteWrite } from '../../devstack/remote-write.ts';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';
import { createDeployment, readDeployment } from '../support/workloads.ts';
import type { PolicySpecInput } from '../support/policy-builder.ts';

const namespace = useTestNamespace('kmw');
const medic = useKubeMedic();

interface StatusView {
  conditions?: { type: string; status: string; reason: string; message: string }[];
  matchedTargets?: number;
}

describe('policy watchers', () => {
  it(
    'start exactly one workflow per target and trigger when two replicas watch the same policy',
    { timeout: 120_000 },
    async () => {
      // Given three Deployments selected by one policy, and two watcher replicas
      const names = ['batch-a', 'batch-b', 'batch-c'];
      for (const name of names) await createDeployment(namespace.name, name, 2);
      await createPolicy(
        'RemediationPolicy',
        { name: 'batch', namespace: namespace.name },
        {
          target: {
            kind: 'Deployment',
            selector: { matchExpressions: [{ key: 'app', operator: 'In', values: names }] },
          },
          evaluationInterval: '1s',
          conditions: [
            {
              name: 'load',
              source: 'Prometheus',
              prometheus: { query: `kubemedic_e2e_batch_load{namespace="${namespace.name}"}` },
              threshold: 0.8,
            },
          ],
          actions: [{ type: 'Scale', scale: { factor: 2 } }],
          verification: { settle: '2s', onNoData: 'Pass', conditions: [] },
          cooldown: '5s',
        },
      );
      await medic.startWatcher();
      await medic.startWatcher();

      // When all three breach at once, and fall back once scaled
      const load = (value: number) =>
        remoteWrite(
          names.map((deployment) => ({
            labels: { __name__: 'kubemedic_e2e_batch_load', namespace: namespace.name, deployment },
            value,
          })),
        );
      await load(0.9);

      // Then each Deployment is scaled once (2 → 4, never 8)
      for (const name of names) {
        await eventually(`${name} scaled`, async () =>
          (await readDeployment(namespace.name, name)).spec?.replicas === 4 ? true : undefined,
        );
      }
      await load(0.1);
      // And Temporal holds exactly one run per target, all finished
      const runs = await eventually(
        'three finished runs',
        async () => {
          const listed = [];
          for await (const run of medic.client.workflow.list({
            query: `${searchAttributes.cluster.name} = "${medic.cluster}"`,
          }))
            listed.push(run);
          return listed.length === 3 && listed.every((r) => r.status.name === 'COMPLETED')
            ? listed
            : undefined;
        },
        60_000,
      );
      assert.deepEqual(
        runs.map((r) => r.typedSearchAttributes.get(searchAttributes.targetName)).sort(),
        names,
      );
      // And no further run starts while both watchers keep evaluating
      await sleep(3_000);
      assert.equal(
        (await medic.client.workflow.count(`${searchAttributes.cluster.name} = "${medic.cluster}"`)).count,
        3,
      );
      for (const name of names) assert.equal((await readDeployment(namespace.name, name)).spec?.replicas, 4);
    },
  );

  it(
    'marks a policy Invalid with the reason and goes on evaluating the others',
    { timeout: 60_000 },
    async () => {
      // Given a policy the API server accepts but the watcher cannot run (an alert matcher whose
      // regular expression does not compile: CEL checks only its form), and a valid one
      await createDeployment(namespace.name, 'shop', 1);
      const base = {
        target: { kind: 'Deployment', name: 'shop' },
        evaluationInterval: '1s',
        conditions: [
          { name: 'pending', source: 'Kubernetes', kubernetes: { state: 'PodPending' }, threshold: 5 },
        ],
      } satisfies Partial<PolicySpecInput>;
      await createPolicy(
        'RemediationPolicy',
        { name: 'bad-matcher', namespace: namespace.name },
        {
          ...base,
          conditions: [
            {
              name: 'alert',
              source: 'Alertmanager',
              alertmanager: { matchers: ['severity=~"crit("'] },
              threshold: 0,
            },
          ],
          actions: [{ type: 'RolloutRestart' }],
        },
      );
      await createPolicy(
        'RemediationPolicy',
        { name: 'fine', namespace: namespace.name },
        {
          ...base,
          actions: [{ type: 'RolloutRestart' }],
        },
      );
      await medic.startWatcher();

      // Then the bad one is Invalid, with the reason in its status and in a Warning Event
      const invalid = await eventually('the Invalid condition', async () => {
        const status = (
          await readPolicy('RemediationPolicy', { name: 'bad-matcher', namespace: namespace.name })
        ).status as StatusView | undefined;
        return status?.conditions?.find((c) => c.type === 'Invalid');
      });
      assert.match(invalid.message, /spec\.conditions\.0\.alertmanager\.matchers: matcher/);
      const events = await kubeconfig()
        .makeApiClient(CoreV1Api)
        .listNamespacedEvent({ namespace: namespace.name });
      assert.ok(
        events.items.some((e) => e.reason === 'InvalidPolicy' && e.involvedObject.name === 'bad-matcher'),
      );
      // And the good one is evaluated as usual
      const fine = await eventually('the fine policy to be Ready', async () => {
        const status = (await readPolicy('RemediationPolicy', { name: 'fine', namespace: namespace.name }))
          .status as StatusView | undefined;
        return status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True')
          ? status
          : undefined;
      });
      assert.equal(fine.matchedTargets, 1);
    },
  );
});

/**
 * Blast radius on the real stack, as Cluster API's MachineHealthCheck does it: when more of a
 * policy's targets are unhealthy at once than it allows, the watcher remediates none, says so in
 * the policy status and in one Warning Event, and holds a storm cooldown; under the limit it
 * remediates as usual.
 */
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { governorStatusQuery, policyGovernorId } from '../../domain/governor.ts';
import { statusQuery } from '../../domain/messages.ts';
import { searchAttributes } from '../../domain/search-attributes.ts';
import { remoteWrite } from '../../devstack/remote-write.ts';
import { readPolicy } from '../support/kubemedic.ts';
import { conditions, scale } from '../support/policy-builder.ts';
import { type Scenario, useScenario } from '../support/scenario.ts';
import { eventually, kubeconfig } from '../support/stack.ts';
import { createDeployment } from '../support/workloads.ts';

// Ten targets under one policy: the scenario gives the policy and the watchers; the targets,
// their signal and what is read back are this file's own helpers below.
const { namespace, medic, scenario } = useScenario('kmb');

interface StatusView {
  conditions?: { type: string; status: string; reason: string; message: string }[];
  matchedTargets?: number;
  activeRemediations?: { workflowId: string; target: string; phase: string }[];
}

/** Ten Deployments at 0 replicas and a policy over them: Scale to 1 when `metric` is above 0.5. */
async function tenUnderOnePolicy(s: Scenario, policy: string, metric: string): Promise<string[]> {
  const names = Array.from({ length: 10 }, (_, i) => `${policy}-${i}`);
  await Promise.all(names.map((name) => createDeployment(namespace.name, name, 0)));
  await s.given.policy(policy, {
    target: {
      kind: 'Deployment',
      selector: { matchExpressions: [{ key: 'app', operator: 'In', values: names }] },
    },
    evaluationInterval: '1s',
    conditions: [conditions.prometheus('broken', `${metric}{namespace="${namespace.name}"}`, 0.5)],
    actions: [scale({ replicas: 1 })],
    verification: { settle: '2s', conditions: [], onNoData: 'Pass' },
    blastRadius: { maxUnhealthyPercent: 40 },
    cooldown: '30m',
  });
  return names;
}

/** One sample per Deployment: 1 (breaching) for the first `breaching`, 0 for the rest. */
const signal = (metric: string, names: string[], breaching: number) =>
  remoteWrite(
    names.map((deployment, i) => ({
      labels: { __name__: metric, namespace: namespace.name, deployment },
      value: i < breaching ? 1 : 0,
    })),
  );

const ready = async (policy: string) => {
  const status = (await readPolicy('RemediationPolicy', { name: policy, namespace: namespace.name }))
    .status as StatusView | undefined;
  return { status, ready: status?.conditions?.find((c) => c.type === 'Ready') };
};

/** Runs of this file's cluster for one policy of the test namespace. */
const runsOf = async (policy: string) =>
  (
    await medic.client.workflow.count(
      `${searchAttributes.cluster.name} = "${medic.cluster}" AND ${searchAttributes.policy.name} = "${namespace.name}/${policy}"`,
    )
  ).count;

const scaledUp = async (names: string[]) => {
  const deployments = await kubeconfig()
    .makeApiClient(AppsV1Api)
    .listNamespacedDeployment({ namespace: namespace.name });
  return deployments.items
    .filter((d) => names.includes(d.metadata?.name ?? '') && (d.spec?.replicas ?? 0) > 0)
    .map((d) => d.metadata?.name ?? '')
    .sort();
};

const stormEvents = async (policy: string) =>
  (
    await kubeconfig().makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: namespace.name })
  ).items.filter(
    (e) =>
      e.reason === 'BlastRadiusExceeded' &&
      e.involvedObject.kind === 'RemediationPolicy' &&
      e.involvedObject.name === policy,
  );

describe('blast radius', () => {
  it(
    'keeps the storm cooldown across a watcher restart: the policy governor refuses with storm-cooldown',
    { timeout: 150_000 },
    async (t) => {
      const s = scenario(t);
      // Given a storm of 6 of 10 targets, seen by a watcher that reports it to the policy governor
      const metric = 'kubemedic_e2e_blast_restart';
      const names = await tenUnderOnePolicy(s, 'restart', metric);
      await signal(metric, names, 6);
      const first = await s.given.watcher();
      const governor = medic.client.workflow.getHandle(
        policyGovernorId(medic.cluster, `${namespace.name}/restart`),
      );
      const storm = await eventually('the storm at the policy governor', async () =>
        governor.query(governorStatusQuery).then((s) => s.storm),
      );
      assert.match(storm.message, /^6 of 10 targets are unhealthy \(60%\), above the limit of 40%/);

      // When the storm eases to 3 of 10 and the watcher restarts: the new one remembers no storm
      await signal(metric, names, 3);
      await first.stop();
      const second = await s.given.watcher();

      // Then the new watcher starts runs for the 3 that fire, and the governor refuses each one
      const query = `${searchAttributes.cluster.name} = "${medic.cluster}" AND ${searchAttributes.policy.name} = "${namespace.name}/restart"`;
      const outcomes = await eventually(
        'three runs refused',
        async () => {
          const ended: { workflowId: string; outcome?: string; reason?: string }[] = [];
          for await (const run of medic.client.workflow.list({ query })) {
            const status = await medic.client.workflow.getHandle(run.workflowId).query(statusQuery);
            ended.push({ workflowId: run.workflowId, outcome: status.outcome, reason: status.reason });
          }
          return ended.length === 3 && ended.every((r) => r.outcome) ? ended : undefined;
        },
        90_000,
      );
      for (const run of outcomes) {
        assert.equal(run.outcome, 'Skipped', run.reason);
        assert.match(
          run.reason ?? '',
          /^storm-cooldown: after a storm \(6 of 10 targets are unhealthy \(60%\), above the limit of 40%.*\) no remediation of this policy starts until /,
        );
      }
      // And nothing was scaled
      assert.deepEqual(await scaledUp(names), []);

      // The storm passes; this test's watcher and runs end with it.
      await signal(metric, names, 0);
      await second.stop();
      await Promise.all(
        outcomes.map((r) =>
          medic.client.workflow
            .getHandle(r.workflowId)
            .terminate('test done')
            .catch(() => undefined),
        ),
      );
    },
  );

  it(
    'remediates none when 6 of 10 targets breach against a limit of 40%, then holds a storm cooldown',
    { timeout: 120_000 },
    async (t) => {
      const s = scenario(t);
      // Given 10 Deployments under one policy that allows at most 40% of its targets unhealthy,
      // and 6 of them breaching before the watcher first looks
      const metric = 'kubemedic_e2e_blast_storm';
      const names = await tenUnderOnePolicy(s, 'storm', metric);
      await signal(metric, names, 6);

      // When a watcher evaluates it every second
      await s.given.watcher();

      // Then the policy is not Ready, for its blast radius, and names the count and the limit
      const blocked = await eventually('the BlastRadius status', async () => {
        const { ready: condition } = await ready('storm');
        return condition?.reason === 'BlastRadius' ? condition : undefined;
      });
      assert.equal(blocked.status, 'False');
      assert.equal(
        blocked.message,
        '6 of 10 targets are unhealthy (60%), above the limit of 40%: remediating none; a person should look',
      );
      // And after several more evaluations nothing was started and nothing scaled
      await sleep(3_000);
      assert.equal(await runsOf('storm'), 0);
      assert.deepEqual(await scaledUp(names), []);
      const { status, ready: still } = await ready('storm');
      assert.equal(still?.reason, 'BlastRadius');
      assert.equal(status?.matchedTargets, 10);
      assert.deepEqual(status?.activeRemediations, []);
      // And one Warning Event says so, once for the storm, not once per evaluation
      const events = await stormEvents('storm');
      assert.equal(events.length, 1, `BlastRadiusExceeded events: ${events.length}`);
      assert.equal(events[0]!.type, 'Warning');
      assert.match(
        events[0]!.message ?? '',
        /^6 of 10 targets are unhealthy \(60%\), above the limit of 40%/,
      );

      // When the storm eases to 3 of 10, under the limit
      await signal(metric, names, 3);

      // Then the storm cooldown (10m by default) still starts nothing, and says until when
      const cooling = await eventually('the StormCooldown status', async () => {
        const { ready: condition } = await ready('storm');
        return condition?.reason === 'StormCooldown' ? condition : undefined;
      });
      assert.equal(cooling.status, 'False');
      assert.match(cooling.message, /now 3 of 10 targets are unhealthy \(30%\)$/);
      const until = Date.parse(/until (\S+) \(stormCooldown 10m\)/.exec(cooling.message)?.[1] ?? '');
      assert.ok(
        until > Date.now() + 9 * 60_000 && until <= Date.now() + 10 * 60_000,
        `cooldown ends ${new Date(until).toISOString()}`,
      );
      await sleep(2_000);
      assert.equal(await runsOf('storm'), 0);
      assert.deepEqual(await scaledUp(names), []);
      assert.equal((await stormEvents('storm')).length, 1);

      // The storm passes altogether, so no watcher of the next test acts on these targets.
      await signal(metric, names, 0);
    },
  );

  it(
    'remediates as usual when 3 of 10 targets breach, under the limit of 40%',
    { timeout: 120_000 },
    async (t) => {
      const s = scenario(t);
      // Given 10 other Deployments under a policy with the same limit, 3 of them breaching
      const metric = 'kubemedic_e2e_blast_few';
      const names = await tenUnderOnePolicy(s, 'few', metric);
      await signal(metric, names, 3);

      // When a watcher evaluates it
      await s.given.watcher();

      // Then exactly those 3 are scaled, each by a run of its own
      const breaching = names.slice(0, 3).sort();
      const scaled = await eventually(
        'the 3 breaching Deployments scaled',
        async () => {
          const up = await scaledUp(names);
          return up.length === 3 ? up : undefined;
        },
        90_000,
      );
      assert.deepEqual(scaled, breaching);
      // (This file's other tests leave runs of other policies.)
      const query = `${searchAttributes.cluster.name} = "${medic.cluster}" AND ${searchAttributes.policy.name} = "${namespace.name}/few"`;
      const runs: { workflowId: string; target: string }[] = [];
      for await (const run of medic.client.workflow.list({ query })) {
        runs.push({
          workflowId: run.workflowId,
          target: run.typedSearchAttributes.get(searchAttributes.targetName) ?? '',
        });
      }
      assert.deepEqual(runs.map((r) => r.target).sort(), breaching);
      // And the policy is Ready, Evaluated as usual
      const { status, ready: condition } = await eventually('the Evaluated status', async () => {
        const view = await ready('few');
        return view.ready?.reason === 'Evaluated' && view.ready.message.includes('conditions fired for 3')
          ? view
          : undefined;
      });
      assert.equal(condition?.status, 'True');
      assert.equal(status?.matchedTargets, 10);
      assert.equal((await stormEvents('few')).length, 0);

      // The runs wait out their 30m cooldown; end them with the test.
      await signal(metric, names, 0);
      await Promise.all(
        runs.map((r) =>
          medic.client.workflow
            .getHandle(r.workflowId)
            .terminate('test done')
            .catch(() => undefined),
        ),
      );
    },
  );
});

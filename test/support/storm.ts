/**
 * The storm scenario of the governor tests: 50 Deployments under one policy limited to 5 at once
 * and 10 an hour, 3 watcher replicas, and all 50 breaching at once.
 */
import { AppsV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { governorStatusQuery, policyGovernorId } from '../../domain/governor.ts';
import { statusQuery } from '../../domain/messages.ts';
import { searchAttributes } from '../../domain/search-attributes.ts';
import type { RemediationStatus } from '../../domain/run.ts';
import { createPolicy, type KubeMedic } from './kubemedic.ts';
import { remoteWrite } from '../../devstack/remote-write.ts';
import { eventually, kubeconfig } from './stack.ts';
import { createDeployment } from './workloads.ts';

export interface Storm {
  policy: string;
  namespace: string;
  peak: number;
  outcomes: RemediationStatus[];
  runsStarted: number;
}

/** Runs the storm to the end; `duringStorm` is called on every sample (a test kills workers there). */
export async function runStorm(
  medic: KubeMedic,
  namespace: string,
  duringStorm = async () => {},
): Promise<Storm> {
  // Given 50 Deployments under one policy limited to 5 at once and 10 an hour, and 3 watchers
  const names = Array.from({ length: 50 }, (_, i) => `storm-${i}`);
  await Promise.all(names.map((name) => createDeployment(namespace, name, 0)));
  await createPolicy(
    'RemediationPolicy',
    { name: 'storm', namespace },
    {
      target: {
        kind: 'Deployment',
        selector: { matchExpressions: [{ key: 'app', operator: 'In', values: names }] },
      },
      evaluationInterval: '1s',
      conditions: [
        {
          name: 'storm',
          source: 'Prometheus',
          prometheus: { query: `kubemedic_e2e_storm{namespace="${namespace}"}` },
          threshold: 0.5,
        },
      ],
      actions: [{ type: 'Scale', scale: { replicas: 1 } }],
      verification: { settle: '3s', conditions: [], onNoData: 'Pass' },
      limits: { maxConcurrent: 5, maxPerHour: 10 },
      cooldown: '30m',
    },
  );
  for (let i = 0; i < 3; i++) await medic.startWatcher();

  // When all 50 breach at once
  await remoteWrite(
    names.map((deployment) => ({
      labels: { __name__: 'kubemedic_e2e_storm', namespace, deployment },
      value: 1,
    })),
  );

  // Then sample the governor throughout, until every run has an outcome
  const policy = `${namespace}/storm`;
  const governor = medic.client.workflow.getHandle(policyGovernorId(medic.cluster, policy));
  const query = `${searchAttributes.cluster.name} = "${medic.cluster}" AND ${searchAttributes.policy.name} = "${policy}"`;
  let peak = 0;
  const outcomes = await eventually(
    '50 runs with an outcome',
    async () => {
      await duringStorm();
      const status = await governor.query(governorStatusQuery).catch(() => undefined);
      peak = Math.max(peak, status?.active.length ?? 0);
      const ids: string[] = [];
      for await (const run of medic.client.workflow.list({ query })) ids.push(run.workflowId);
      if (ids.length < 50) return undefined;
      const statuses = await Promise.all(
        ids.map((id) => medic.client.workflow.getHandle(id).query(statusQuery)),
      );
      return statuses.every((s) => s.outcome !== undefined) ? statuses : undefined;
    },
    240_000,
  );
  const runsStarted = (await medic.client.workflow.count(query)).count;
  await Promise.all(
    outcomes.map((s) =>
      medic.client.workflow
        .getHandle(`remediation/${medic.cluster}/${namespace}/Deployment/${s.target.name}/storm`)
        .terminate('test done'),
    ),
  );
  return { policy, namespace, peak, outcomes, runsStarted };
}

/** Never more than 5 at once; exactly 10 executed and 40 skipped as rate-limited; one run per target. */
export async function assertExactStorm(storm: Storm): Promise<void> {
  assert.ok(storm.peak <= 5, `peak concurrent ${storm.peak}`);
  assert.ok(storm.peak >= 2, `the limit was exercised (peak ${storm.peak})`);
  const executed = storm.outcomes.filter((s) => s.steps.some((step) => step.executed !== undefined));
  const skipped = storm.outcomes.filter((s) => s.outcome === 'Skipped');
  assert.equal(executed.length, 10);
  assert.equal(skipped.length, 40);
  for (const run of skipped)
    assert.match(run.reason ?? '', /^rate-limited: 10 remediations in the last hour; the limit is 10$/);
  const deployments = await kubeconfig()
    .makeApiClient(AppsV1Api)
    .listNamespacedDeployment({ namespace: storm.namespace });
  assert.equal(deployments.items.filter((d) => d.spec?.replicas === 1).length, 10);
  assert.equal(storm.runsStarted, 50);
  const reasons = [...new Set(skipped.map((run) => run.reason))].join('; ');
  console.log(
    `storm: peak ${storm.peak} concurrent, ${executed.length} executed, ${skipped.length} skipped (${reasons}), ${storm.runsStarted} runs`,
  );
}

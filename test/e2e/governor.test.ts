/**
 * The safety governor on the real stack: limits that span remediations hold exactly with three
 * watcher replicas and fifty targets breaching at once; a pause refuses new permits; and the
 * governor's history does not grow without bound (continue-as-new).
 */
import { AppsV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { skipsTotal } from '../../activities/metrics.ts';
import { taskQueueFor } from '../../policy-watcher/index.ts';
import {
  globalGovernorId,
  governorStatusQuery,
  pauseSignal,
  policyGovernorId,
  requestPermitSignal,
  resumeSignal,
} from '../../workflows/governor.ts';
import { statusQuery } from '../../workflows/messages.ts';
import { searchAttributes } from '../../workflows/search-attributes.ts';
import { createPolicy, startRunNow, useKubeMedic } from '../support/kubemedic.ts';
import { remoteWrite } from '../support/remote-write.ts';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';
import { createDeployment } from '../support/workloads.ts';

const namespace = useTestNamespace('kmg');
const medic = useKubeMedic();

describe('the safety governor', () => {
  it(
    'holds max concurrent 5 and max per hour 10 exactly: 50 targets, 3 watchers',
    { timeout: 240_000 },
    async () => {
      // Given 50 Deployments under one policy limited to 5 at once and 10 an hour, and 3 watchers
      const names = Array.from({ length: 50 }, (_, i) => `storm-${i}`);
      await Promise.all(names.map((name) => createDeployment(namespace.name, name, 0)));
      const policy = { name: 'storm', namespace: namespace.name };
      await createPolicy('RemediationPolicy', policy, {
        target: {
          kind: 'Deployment',
          selector: { matchExpressions: [{ key: 'app', operator: 'In', values: names }] },
        },
        evaluationInterval: '1s',
        conditions: [
          {
            name: 'storm',
            source: 'Prometheus',
            prometheus: { query: `kubemedic_e2e_storm{namespace="${namespace.name}"}` },
            threshold: 0.5,
          },
        ],
        actions: [{ type: 'Scale', scale: { replicas: 1 } }],
        verification: { settle: '3s', conditions: [], onNoData: 'Pass' },
        limits: { maxConcurrent: 5, maxPerHour: 10 },
        cooldown: '30m',
      });
      for (let i = 0; i < 3; i++) await medic.startWatcher();

      // When all 50 breach at once
      await remoteWrite(
        names.map((deployment) => ({
          labels: { __name__: 'kubemedic_e2e_storm', namespace: namespace.name, deployment },
          value: 1,
        })),
      );

      // Then, sampled throughout, never more than 5 hold a permit
      const governor = medic.client.workflow.getHandle(
        policyGovernorId(medic.cluster, `${namespace.name}/storm`),
      );
      let peak = 0;
      const query = `${searchAttributes.cluster.name} = "${medic.cluster}" AND ${searchAttributes.policy.name} = "${namespace.name}/storm"`;
      const outcomes = await eventually(
        '50 runs with an outcome',
        async () => {
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
        180_000,
      );
      assert.ok(peak <= 5, `peak concurrent ${peak}`);
      assert.ok(peak >= 2, `the limit was exercised (peak ${peak})`);
      // And exactly 10 executed, 40 skipped as rate-limited, each with its reason
      const executed = outcomes.filter((s) => s.steps.some((step) => step.executed !== undefined));
      const skipped = outcomes.filter((s) => s.outcome === 'Skipped');
      assert.equal(executed.length, 10);
      assert.equal(skipped.length, 40);
      for (const run of skipped)
        assert.match(run.reason ?? '', /^rate-limited: 10 remediations in the last hour; the limit is 10$/);
      const skipCounts = (await skipsTotal.get()).values.filter(
        (v) => v.labels.policy === `${namespace.name}/storm`,
      );
      assert.deepEqual(
        skipCounts.map((v) => [v.labels.reason, v.value]),
        [['rate-limited', 40]],
      );
      const deployments = await kubeconfig()
        .makeApiClient(AppsV1Api)
        .listNamespacedDeployment({ namespace: namespace.name });
      assert.equal(deployments.items.filter((d) => d.spec?.replicas === 1).length, 10);
      // And no run started twice for its target
      assert.equal((await medic.client.workflow.count(query)).count, 50);
      await Promise.all(
        outcomes.map((s) =>
          medic.client.workflow
            .getHandle(`remediation/${medic.cluster}/${namespace.name}/Deployment/${s.target.name}/storm`)
            .terminate('test done'),
        ),
      );
    },
  );

  it('refuses new permits while paused, and grants again after resume', { timeout: 90_000 }, async () => {
    // Given the cluster's governor is paused
    await createDeployment(namespace.name, 'calm', 1);
    const metadata = { name: 'calm', namespace: namespace.name };
    await createPolicy('RemediationPolicy', metadata, {
      target: { kind: 'Deployment', name: 'calm' },
      conditions: [
        { name: 'pending', source: 'Kubernetes', kubernetes: { state: 'PodPending' }, threshold: 5 },
      ],
      actions: [{ type: 'Scale', scale: { replicas: 2 } }],
      verification: { settle: '1s', conditions: [], onNoData: 'Pass' },
      cooldown: '1s',
    });
    const target = { kind: 'Deployment' as const, namespace: namespace.name, name: 'calm' };
    // A first run starts the governors; the pause then applies to every later request.
    const first = await startRunNow(medic, metadata, target);
    assert.equal((await first.result()).outcome, 'Succeeded');
    const cluster = medic.client.workflow.getHandle(globalGovernorId(medic.cluster));
    await cluster.signal(pauseSignal, { by: 'oncall', reason: 'incident 42' });

    // When a run asks for a permit, then it is Skipped with the pause's reason, and nothing changes
    const paused = await (await startRunNow(medic, metadata, target)).result();
    assert.equal(paused.outcome, 'Skipped');
    assert.equal(paused.reason, 'paused: paused by oncall: incident 42');

    // When the governor is resumed, then the next run acts again
    await cluster.signal(resumeSignal, { by: 'oncall' });
    const resumed = await (await startRunNow(medic, metadata, target)).result();
    assert.equal(resumed.outcome, 'Succeeded', resumed.reason);
  });

  it(
    'continues as new, carrying its state, instead of growing its history',
    { timeout: 90_000 },
    async () => {
      // Given a governor that continues as new after every 3 decisions
      const id = `governor/${medic.cluster}/continue-as-new-${randomUUID()}`;
      const handle = await medic.client.workflow.start('governor', {
        workflowId: id,
        taskQueue: taskQueueFor(medic.cluster),
        args: [undefined, 3],
      });
      // When it decides 10 requests (from runs that no longer exist: their answers go nowhere)
      for (let i = 0; i < 10; i++) {
        await medic.client.workflow.getHandle(id).signal(requestPermitSignal, {
          workflowId: `gone-${i}`,
          targetKey: `t${i}`,
          limits: { maxPerHour: 100 },
        });
      }
      // Then it has continued as new several times, and the last run still knows every grant
      const latest = await eventually('the grants to be carried over', async () => {
        const status = await medic.client.workflow.getHandle(id).query(governorStatusQuery);
        return status.grantedLastHour === 10 ? status : undefined;
      });
      assert.equal(latest.queued, 0);
      const runs: string[] = [];
      for await (const run of medic.client.workflow.list({ query: `WorkflowId = "${id}"` }))
        runs.push(run.runId);
      assert.ok(runs.length >= 3, `${runs.length} runs in the chain`);
      const lastHistory = await medic.client.workflow.getHandle(id).fetchHistory();
      assert.ok(
        (lastHistory.events?.length ?? 0) < 60,
        `the current run's history is short (${lastHistory.events?.length} events)`,
      );
      await handle.terminate('test done');
    },
  );
});

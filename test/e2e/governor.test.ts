/**
 * The safety governor on the real stack: limits that span remediations hold exactly with three
 * watcher replicas and fifty targets breaching at once; a pause refuses new permits; and the
 * governor's history does not grow without bound (continue-as-new).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { skipsTotal } from '../../activities/metrics.ts';
import { taskQueueFor } from '../../domain/config/names.ts';
import {
  globalGovernorId,
  governorStatusQuery,
  pauseSignal,
  requestPermitSignal,
  resumeSignal,
  stormDetectedSignal,
} from '../../domain/governor.ts';
import { conditions, deploymentPolicy, scale } from '../support/policy-builder.ts';
import { useScenario } from '../support/scenario.ts';
import { eventually } from '../support/stack.ts';
import { assertExactStorm, runStorm } from '../support/storm.ts';

const { namespace, medic, scenario } = useScenario('kmg');

describe('the safety governor', () => {
  it(
    'holds max concurrent 5 and max per hour 10 exactly: 50 targets, 3 watchers',
    { timeout: 240_000 },
    async () => {
      const storm = await runStorm(medic, namespace.name);
      await assertExactStorm(storm);
      // And the skips are counted by reason (the worker runs in this process)
      const skipCounts = (await skipsTotal.get()).values.filter((v) => v.labels.policy === storm.policy);
      assert.deepEqual(
        skipCounts.map((v) => [v.labels.reason, v.value]),
        [['rate-limited', 40]],
      );
    },
  );

  it('refuses new permits while paused, and grants again after resume', { timeout: 90_000 }, async (t) => {
    const s = scenario(t);
    // Given the cluster's governor is paused
    await s.given.deployment('calm', 1);
    await s.given.policy(
      'calm',
      deploymentPolicy('calm', {
        conditions: [conditions.podPending('pending')],
        actions: [scale({ replicas: 2 })],
        verification: { settle: '1s', conditions: [], onNoData: 'Pass' },
      }),
    );
    // A first run starts the governors; the pause then applies to every later request.
    await s.when.runStarts();
    await s.then.runEndsAs('Succeeded');
    const cluster = medic.client.workflow.getHandle(globalGovernorId(medic.cluster));
    await cluster.signal(pauseSignal, { by: 'oncall', reason: 'incident 42' });

    // When a run asks for a permit, then it is Skipped with the pause's reason, and nothing changes
    await s.when.runStarts();
    await s.then.runEndsAs('Skipped', /^paused: paused by oncall: incident 42$/);

    // When the governor is resumed, then the next run acts again
    await cluster.signal(resumeSignal, { by: 'oncall' });
    await s.when.runStarts();
    await s.then.runEndsAs('Succeeded');
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

  it(
    'keeps a reported storm across continue-as-new, refusing every request until it ends',
    { timeout: 90_000 },
    async () => {
      // Given a governor that continues as new after every 2 decisions, told of a storm
      const id = `governor/${medic.cluster}/storm-${randomUUID()}`;
      const handle = await medic.client.workflow.start('governor', {
        workflowId: id,
        taskQueue: taskQueueFor(medic.cluster),
        args: [undefined, 2],
      });
      await handle.signal(stormDetectedSignal, {
        cooldownMs: 600_000,
        message: '6 of 10 targets are unhealthy',
      });
      // When 5 requests arrive that its other limits would grant
      for (let i = 0; i < 5; i++) {
        await handle.signal(requestPermitSignal, {
          workflowId: `gone-${i}`,
          targetKey: `t${i}`,
          limits: { maxPerHour: 100 },
        });
      }
      // Then every one is decided and none granted, and the storm is still known after continuing as new
      const latest = await eventually('every request decided in a later run', async () => {
        const current = medic.client.workflow.getHandle(id);
        const [status, description] = await Promise.all([
          current.query(governorStatusQuery),
          current.describe(),
        ]);
        return status.queued === 0 && description.runId !== handle.firstExecutionRunId ? status : undefined;
      });
      assert.equal(latest.grantedLastHour, 0);
      assert.equal(latest.storm?.message, '6 of 10 targets are unhealthy');
      assert.ok((latest.storm?.untilMs ?? 0) > Date.now() + 8 * 60_000, 'the cooldown runs about 10 minutes');
      await medic.client.workflow.getHandle(id).terminate('test done');
    },
  );
});

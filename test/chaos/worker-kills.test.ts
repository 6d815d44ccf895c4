/**
 * Chaos: the worker killed with SIGKILL at random moments across a storm of runs with two-rung
 * ladders, on the real stack, against the same storm without kills in the same file.
 *
 * Every rung fails verification (the condition always holds), so every run must end RolledBack
 * with its target exactly as backed up, and each action applied once: a Deployment's
 * generation counts its spec writes (two executes and two rollbacks make four; a rung applied
 * twice from a different base would make more, or leave other replicas), and each run's history
 * holds one completed execute and one completed rollback per rung. No permit may be left held.
 *
 * CI runs a small storm (KUBEMEDIC_CHAOS_RUNS=12, KUBEMEDIC_CHAOS_KILLS=10);
 * `npm run chaos` runs the full one (40 runs, up to 100 kills).
 */
import { AppsV1Api } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { governorStatusQuery, policyGovernorId } from '../../domain/governor.ts';
import { statusQuery } from '../../domain/messages.ts';
import { type RemediationStatus, remediationWorkflowId } from '../../domain/run.ts';
import { createPolicy, spawnWorkerProcess, useKubeMedic } from '../support/kubemedic.ts';
import { conditions, scale } from '../support/policy-builder.ts';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';
import { createDeployment } from '../support/workloads.ts';

const runs = Number(process.env.KUBEMEDIC_CHAOS_RUNS ?? 12);
const maxKills = Number(process.env.KUBEMEDIC_CHAOS_KILLS ?? 10);
const namespace = useTestNamespace('kmx');
const medic = useKubeMedic({ inProcessWorker: false });

/** A fixed-seed generator, so a failing storm can be told apart from bad luck and rerun alike. */
function seeded(seed: number) {
  let state = seed;
  return () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

interface StormResult {
  seconds: number;
  kills: number;
  statuses: RemediationStatus[];
  /** Still running, so the runs (cooling down) answer queries; the test stops it when done. */
  worker: ChildProcess;
}

/** Creates `runs` Deployments under a policy with a two-rung ladder that never verifies. */
async function givenStorm(policy: string): Promise<string[]> {
  const names = Array.from({ length: runs }, (_, i) => `${policy}-${i}`);
  await Promise.all(names.map((name) => createDeployment(namespace.name, name, 1)));
  const never = conditions.deploymentUnavailable('always', 0);
  await createPolicy(
    'RemediationPolicy',
    { name: policy, namespace: namespace.name },
    {
      target: {
        kind: 'Deployment',
        selector: { matchExpressions: [{ key: 'app', operator: 'In', values: names }] },
      },
      evaluationInterval: '1s',
      conditions: [never],
      actions: [scale({ factor: 2, maxReplicas: 8 }), scale({ factor: 3, maxReplicas: 8 })],
      verification: { settle: '2s' },
      limits: { maxConcurrent: 4 },
      cooldown: '1h',
    },
  );
  return names;
}

/** Waits until every run of the storm has an outcome, killing the worker at random moments meanwhile. */
async function runStorm(policy: string, names: string[], killsWanted: number): Promise<StormResult> {
  const random = seeded(20261130);
  const started = Date.now();
  let worker: ChildProcess = await spawnWorkerProcess(medic.cluster);
  let kills = 0;
  const idOf = (name: string) =>
    remediationWorkflowId(
      medic.cluster,
      { kind: 'Deployment', namespace: namespace.name, name },
      { kind: 'RemediationPolicy', namespace: namespace.name, name: policy },
    );
  const outcomes = async () =>
    Promise.all(
      names.map((name) =>
        medic.client.workflow
          .getHandle(idOf(name))
          .query(statusQuery)
          .catch(() => undefined),
      ),
    );
  for (;;) {
    const statuses = await outcomes();
    if (statuses.every((s) => s?.outcome !== undefined)) {
      return {
        seconds: (Date.now() - started) / 1000,
        kills,
        statuses: statuses as RemediationStatus[],
        worker,
      };
    }
    if (kills < killsWanted) {
      // Anywhere from during its start-up to well into its work.
      await sleep(500 + random() * 6_000);
      const exited = once(worker, 'exit');
      worker.kill('SIGKILL');
      const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      assert.equal(signal, 'SIGKILL', 'the worker was killed, not ended on its own');
      kills += 1;
      worker = await spawnWorkerProcess(medic.cluster);
    } else {
      await sleep(1_000);
    }
  }
}

/** The invariants every storm keeps, killed or not. */
async function assertClean(client: Client, policy: string, names: string[], result: StormResult) {
  const byOutcome = new Map<string, number>();
  for (const status of result.statuses)
    byOutcome.set(status.outcome!, (byOutcome.get(status.outcome!) ?? 0) + 1);
  const outcomes = [...byOutcome].map(([outcome, count]) => `${count} ${outcome}`).join(', ');
  assert.deepEqual(
    [...byOutcome.keys()],
    ['RolledBack'],
    `every run rolled back its two rungs (${outcomes})`,
  );

  const apps = kubeconfig().makeApiClient(AppsV1Api);
  for (const name of names) {
    const deployment = await apps.readNamespacedDeployment({ namespace: namespace.name, name });
    assert.equal(deployment.spec?.replicas, 1, `${name} is exactly as backed up`);
    // Created (1), two rungs each written once and restored once (+4).
    assert.equal(deployment.metadata?.generation, 5, `${name} was written exactly four times`);
  }
  for (const status of result.statuses) {
    const history = await client.workflow.getHandle(remediationIdOf(status, policy)).fetchHistory();
    const completed = (type: string) =>
      history.events?.filter(
        (e) =>
          e.activityTaskCompletedEventAttributes &&
          scheduledType(
            history.events ?? [],
            Number(e.activityTaskCompletedEventAttributes.scheduledEventId),
          ) === type,
      ).length;
    assert.equal(completed('executeAction'), 2, `${status.target.name}: one execute per rung`);
    assert.equal(completed('rollbackAction'), 2, `${status.target.name}: one rollback per rung`);
  }
  const governor = await eventually('the governor to hold no permit', async () => {
    const s = await client.workflow
      .getHandle(policyGovernorId(medic.cluster, `${namespace.name}/${policy}`))
      .query(governorStatusQuery);
    return s.active.length === 0 && s.queued === 0 ? s : undefined;
  });
  assert.equal(governor.active.length, 0);
  return outcomes;
}

const remediationIdOf = (status: RemediationStatus, policy: string) =>
  remediationWorkflowId(medic.cluster, status.target, {
    kind: 'RemediationPolicy',
    namespace: namespace.name,
    name: policy,
  });

/** The activity type of the ActivityTaskScheduled event `id`. */
function scheduledType(
  events: {
    eventId?: unknown;
    activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  }[],
  id: number,
): string | undefined {
  return (
    events.find((e) => Number(e.eventId) === id)?.activityTaskScheduledEventAttributes?.activityType?.name ??
    undefined
  );
}

describe('chaos: the worker killed with SIGKILL across a storm', () => {
  it(
    `ends every run cleanly, applies each action once and leaves no permit (${runs} runs, up to ${maxKills} kills), against the storm without kills`,
    { timeout: 3_600_000 },
    async () => {
      await medic.startWatcher();
      // Given the storm once without kills, as the baseline of the same run
      const calmNames = await givenStorm('calm');
      const calm = await runStorm('calm', calmNames, 0);
      const calmOutcomes = await assertClean(medic.client, 'calm', calmNames, calm);
      calm.worker.kill('SIGKILL');

      // When the same storm runs while the worker is killed at random moments
      const stormNames = await givenStorm('killed');
      const killed = await runStorm('killed', stormNames, maxKills);

      // Then every run still ended cleanly, each action applied once, no permit held
      const killedOutcomes = await assertClean(medic.client, 'killed', stormNames, killed);
      assert.ok(killed.kills >= Math.min(maxKills, 1), 'the worker was killed at least once');
      console.log(
        `# chaos: ${runs} runs of a two-rung ladder; without kills ${calm.seconds.toFixed(1)} s (${calmOutcomes}); ` +
          `with ${killed.kills} SIGKILLs ${killed.seconds.toFixed(1)} s (${killedOutcomes}); ` +
          `${(killed.seconds / calm.seconds).toFixed(1)}× the time; every target as backed up, 4 writes each, 0 permits held`,
      );
      await Promise.all(
        [
          ...calm.statuses.map((s) => remediationIdOf(s, 'calm')),
          ...killed.statuses.map((s) => remediationIdOf(s, 'killed')),
        ].map((id) => medic.client.workflow.getHandle(id).terminate('chaos test done')),
      );
      killed.worker.kill('SIGKILL');
    },
  );
});

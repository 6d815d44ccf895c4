/**
 * The escalation ladder (each action that fails verification is rolled back before the next is
 * tried) and a suspended policy (evaluated and reported, but starting nothing).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { searchAttributes } from '../../domain/search-attributes.ts';
import { readPolicy } from '../support/kubemedic.ts';
import { conditions, deploymentPolicy, scale } from '../support/policy-builder.ts';
import { useScenario } from '../support/scenario.ts';
import { eventually } from '../support/stack.ts';
import { readDeployment } from '../support/workloads.ts';

const { namespace, medic, scenario } = useScenario('kml');

/** Holds whatever happens (0 ≥ 0), so every verification fails. */
const alwaysHolds = conditions.deploymentUnavailable('always', 0);

describe('the escalation ladder', () => {
  it('rolls back each action that fails verification and tries the next', { timeout: 90_000 }, async (t) => {
    const s = scenario(t);
    // Given a policy with two actions, neither of which will verify
    await s.given.deployment('stubborn', 2);
    await s.given.policy(
      'stubborn',
      deploymentPolicy('stubborn', {
        conditions: [alwaysHolds],
        actions: [scale({ replicas: 4 }), { type: 'RolloutRestart' }],
      }),
    );
    const before = await readDeployment(namespace.name, 'stubborn');

    // When a run goes through the ladder
    await s.when.runStarts();

    // Then both rungs were tried in order, each verified, failed and was rolled back
    const result = await s.then.runEndsAs('RolledBack', /every action failed verification/);
    assert.deepEqual(
      result.steps.map((step) => [step.action, step.verdict?.healthy, step.rollback?.outcome]),
      [
        ['Scale', false, 'RolledBack'],
        ['RolloutRestart', false, 'RolledBack'],
      ],
    );
    // And the Deployment is as it was before the run
    const after = await readDeployment(namespace.name, 'stubborn');
    assert.equal(after.spec?.replicas, before.spec?.replicas);
    assert.deepEqual(
      after.spec?.template.metadata?.annotations ?? {},
      before.spec?.template.metadata?.annotations ?? {},
    );
  });
});

describe('a suspended policy', () => {
  it('is evaluated and reported, and starts no remediation', { timeout: 60_000 }, async (t) => {
    const s = scenario(t);
    // Given a suspended policy whose condition holds
    await s.given.deployment('paused', 1);
    await s.given.policy(
      'paused',
      deploymentPolicy('paused', {
        suspend: true,
        evaluationInterval: '1s',
        conditions: [alwaysHolds],
        actions: [scale({ replicas: 3 })],
      }),
    );
    // When a watcher evaluates it
    await s.given.watcher();
    // Then its status says it is suspended
    const ready = await eventually('the Suspended condition', async () => {
      const status = (await readPolicy('RemediationPolicy', { name: 'paused', namespace: namespace.name }))
        .status as { conditions?: { type: string; reason: string; message: string }[] } | undefined;
      return status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'Suspended');
    });
    assert.match(ready.message, /no new remediations start/);
    // And, several evaluations later, no run exists and nothing changed
    await sleep(3_000);
    const runs = await medic.client.workflow.count(
      `${searchAttributes.cluster.name} = "${medic.cluster}" AND ${searchAttributes.targetName.name} = "paused"`,
    );
    assert.equal(runs.count, 0);
    await s.then.replicasAre(1);
  });
});

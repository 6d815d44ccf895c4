/**
 * Temporary actions (revertAfter: a durable timer, then a guarded revert, at once or in steps)
 * and dry runs (the API server's dryRun=All: the run reports what would change, nothing does).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readPolicy } from '../support/kubemedic.ts';
import { conditions, deploymentPolicy, type PolicySpecInput, scale } from '../support/policy-builder.ts';
import { type Scenario, useScenario } from '../support/scenario.ts';
import { readDeployment } from '../support/workloads.ts';

const { namespace, scenario } = useScenario('kmr');

/** An Available Deployment of `replicas` under a policy with `spec`, and a run started for it. */
async function givenRun(
  s: Scenario,
  name: string,
  replicas: number,
  spec: Pick<PolicySpecInput, 'actions'> & Partial<PolicySpecInput>,
) {
  await s.given.availableDeployment(name, replicas);
  await s.given.policy(
    name,
    deploymentPolicy(name, { conditions: [conditions.deploymentUnavailable('unavailable', 1)], ...spec }),
  );
  await s.when.runStarts();
}

describe('temporary actions', () => {
  it('reverts at once after revertAfter, on a durable timer', { timeout: 90_000 }, async (t) => {
    const s = scenario(t);
    // Given a run that scales 1 → 3 for 3 seconds
    await givenRun(s, 'burst', 1, {
      actions: [scale({ replicas: 3 })],
      revertAfter: { after: '3s' },
    });
    // When it has run to its end, then it succeeded, and the revert put the replicas back
    const result = await s.then.runEndsAs('Succeeded');
    assert.equal(result.steps[0]?.revert?.outcome, 'RolledBack');
    await s.then.replicasAre(1);
  });

  it('reverts gradually in steps when asked to', { timeout: 90_000 }, async (t) => {
    const s = scenario(t);
    // Given a run that scales 2 → 8 and walks back in 3 steps, 2 s apart
    await givenRun(s, 'ramp', 2, {
      actions: [scale({ replicas: 8, maxFactor: 4 })],
      revertAfter: { after: '1s', mode: 'Gradual', steps: 3, interval: '2s' },
    });
    // When the revert runs, the replicas pass through the steps
    const seen = new Set<number>();
    let done = false;
    const ending = s.then.runEndsAs('Succeeded').finally(() => (done = true));
    while (!done) {
      seen.add((await readDeployment(namespace.name, 'ramp')).spec?.replicas ?? -1);
      await sleep(200);
    }
    // Then 8 → 6 → 4 → 2
    const ended = await ending;
    for (const step of [8, 6, 4])
      assert.ok(seen.has(step), `saw ${step} replicas (saw ${[...seen].join(', ')})`);
    assert.deepEqual(ended.steps[0]?.revertedTo, { '/spec/replicas': 4 });
    assert.equal(ended.steps[0]?.revert?.outcome, 'RolledBack');
    await s.then.replicasAre(2);
  });
});

describe('dry run', () => {
  it('reports what would change and changes nothing', { timeout: 60_000 }, async (t) => {
    const s = scenario(t);
    await givenRun(s, 'careful', 2, {
      dryRun: true,
      actions: [scale({ factor: 3, maxFactor: 3 })],
    });
    const result = await s.then.runEndsAs('Succeeded', /^dry run: .*2 to 6.*; nothing was changed$/);
    assert.deepEqual(result.steps[0]?.executed?.changes, [{ path: '/spec/replicas', before: 2, after: 6 }]);
    await s.then.replicasAre(2);
    // And the policy status shows the would-be change
    const policy = await readPolicy('RemediationPolicy', { name: 'careful', namespace: namespace.name });
    assert.deepEqual((policy.status?.lastOutcome as { changes?: unknown }).changes, [
      { path: '/spec/replicas', before: '2', after: '6' },
    ]);
  });
});

/**
 * Temporary actions (revertAfter: a durable timer, then a guarded revert, at once or in steps)
 * and dry runs (the API server's dryRun=All: the run reports what would change, nothing does).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createPolicy,
  deploymentUnavailable,
  readPolicy,
  startRunNow,
  useKubeMedic,
} from '../support/kubemedic.ts';
import { useTestNamespace } from '../support/stack.ts';
import { createAvailableDeployment, readDeployment } from '../support/workloads.ts';

const namespace = useTestNamespace('kmr');
const medic = useKubeMedic();

const available = deploymentUnavailable('unavailable', 1);

async function run(name: string, replicas: number, spec: Record<string, unknown>) {
  await createAvailableDeployment(namespace.name, name, replicas);
  const metadata = { name, namespace: namespace.name };
  await createPolicy('RemediationPolicy', metadata, {
    target: { kind: 'Deployment', name },
    conditions: [available],
    verification: { settle: '1s' },
    cooldown: '1s',
    ...spec,
  });
  return startRunNow(medic, metadata, { kind: 'Deployment', namespace: namespace.name, name });
}

const replicasOf = async (name: string) => (await readDeployment(namespace.name, name)).spec?.replicas;

describe('temporary actions', () => {
  it('reverts at once after revertAfter, on a durable timer', { timeout: 90_000 }, async () => {
    // Given a run that scales 1 → 3 for 3 seconds
    const handle = await run('burst', 1, {
      actions: [{ type: 'Scale', scale: { replicas: 3 } }],
      revertAfter: { after: '3s' },
    });
    // When it has run to its end
    const result = await handle.result();
    // Then it succeeded, and the revert put the replicas back
    assert.equal(result.outcome, 'Succeeded', result.reason);
    assert.equal(result.steps[0]?.revert?.outcome, 'RolledBack');
    assert.equal(await replicasOf('burst'), 1);
  });

  it('reverts gradually in steps when asked to', { timeout: 90_000 }, async () => {
    // Given a run that scales 2 → 8 and walks back in 3 steps, 2 s apart
    const handle = await run('ramp', 2, {
      actions: [{ type: 'Scale', scale: { replicas: 8, maxFactor: 4 } }],
      revertAfter: { after: '1s', mode: 'Gradual', steps: 3, interval: '2s' },
    });
    // When the revert runs, the replicas pass through the steps
    const seen = new Set<number>();
    let done = false;
    const result = handle.result().finally(() => (done = true));
    while (!done) {
      seen.add((await replicasOf('ramp')) ?? -1);
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 200));
    }
    // Then 8 → 6 → 4 → 2
    const ended = await result;
    assert.equal(ended.outcome, 'Succeeded', ended.reason);
    for (const step of [8, 6, 4])
      assert.ok(seen.has(step), `saw ${step} replicas (saw ${[...seen].join(', ')})`);
    assert.deepEqual(ended.steps[0]?.revertedTo, { '/spec/replicas': 4 });
    assert.equal(ended.steps[0]?.revert?.outcome, 'RolledBack');
    assert.equal(await replicasOf('ramp'), 2);
  });
});

describe('dry run', () => {
  it('reports what would change and changes nothing', { timeout: 60_000 }, async () => {
    const handle = await run('careful', 2, {
      dryRun: true,
      actions: [{ type: 'Scale', scale: { factor: 3, maxFactor: 3 } }],
    });
    const result = await handle.result();
    assert.equal(result.outcome, 'Succeeded');
    assert.match(result.reason, /^dry run: .*2 to 6.*; nothing was changed$/);
    assert.deepEqual(result.steps[0]?.executed?.changes, [{ path: '/spec/replicas', before: 2, after: 6 }]);
    assert.equal(await replicasOf('careful'), 2);
    // And the policy status shows the would-be change
    const policy = await readPolicy('RemediationPolicy', { name: 'careful', namespace: namespace.name });
    assert.deepEqual((policy.status?.lastOutcome as { changes?: unknown }).changes, [
      { path: '/spec/replicas', before: '2', after: '6' },
    ]);
  });
});

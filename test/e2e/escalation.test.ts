/**
 * The escalation ladder (each action that fails verification is rolled back before the next is
 * tried) and a suspended policy (evaluated and reported, but starting nothing).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { searchAttributes } from '../../domain/search-attributes.ts';
import {
  createPolicy,
  deploymentUnavailable,
  readPolicy,
  startRunNow,
  useKubeMedic,
} from '../support/kubemedic.ts';
import { eventually, useTestNamespace } from '../support/stack.ts';
import { createDeployment, readDeployment } from '../support/workloads.ts';

const namespace = useTestNamespace('kml');
const medic = useKubeMedic();

/** Holds whatever happens (0 ≥ 0), so every verification fails. */
const alwaysHolds = deploymentUnavailable('always', 0);

describe('the escalation ladder', () => {
  it('rolls back each action that fails verification and tries the next', { timeout: 90_000 }, async () => {
    // Given a policy with two actions, neither of which will verify
    await createDeployment(namespace.name, 'stubborn', 2);
    const metadata = { name: 'stubborn', namespace: namespace.name };
    await createPolicy('RemediationPolicy', metadata, {
      target: { kind: 'Deployment', name: 'stubborn' },
      conditions: [alwaysHolds],
      actions: [{ type: 'Scale', scale: { replicas: 4 } }, { type: 'RolloutRestart' }],
      verification: { settle: '1s' },
      cooldown: '1s',
    });
    const before = await readDeployment(namespace.name, 'stubborn');

    // When a run goes through the ladder
    const handle = await startRunNow(medic, metadata, {
      kind: 'Deployment',
      namespace: namespace.name,
      name: 'stubborn',
    });
    const result = await handle.result();

    // Then both rungs were tried in order, each verified, failed and was rolled back
    assert.equal(result.outcome, 'RolledBack', result.reason);
    assert.deepEqual(
      result.steps.map((s) => [s.action, s.verdict?.healthy, s.rollback?.outcome]),
      [
        ['Scale', false, 'RolledBack'],
        ['RolloutRestart', false, 'RolledBack'],
      ],
    );
    assert.match(result.reason, /every action failed verification/);
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
  it('is evaluated and reported, and starts no remediation', { timeout: 60_000 }, async () => {
    // Given a suspended policy whose condition holds
    await createDeployment(namespace.name, 'paused', 1);
    const metadata = { name: 'paused', namespace: namespace.name };
    await createPolicy('RemediationPolicy', metadata, {
      target: { kind: 'Deployment', name: 'paused' },
      suspend: true,
      evaluationInterval: '1s',
      conditions: [alwaysHolds],
      actions: [{ type: 'Scale', scale: { replicas: 3 } }],
    });
    // When a watcher evaluates it
    await medic.startWatcher();
    // Then its status says it is suspended
    const ready = await eventually('the Suspended condition', async () => {
      const status = (await readPolicy('RemediationPolicy', metadata)).status as
        { conditions?: { type: string; reason: string; message: string }[] } | undefined;
      return status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'Suspended');
    });
    assert.match(ready.message, /no new remediations start/);
    // And, several evaluations later, no run exists and nothing changed
    await sleep(3_000);
    const runs = await medic.client.workflow.count(
      `${searchAttributes.cluster.name} = "${medic.cluster}" AND ${searchAttributes.targetName.name} = "paused"`,
    );
    assert.equal(runs.count, 0);
    assert.equal((await readDeployment(namespace.name, 'paused')).spec?.replicas, 1);
  });
});

/**
 * The remediation loop end to end on the real stack: a PromQL condition driven through remote
 * write fires the real policy watcher, which starts the real workflow on a real worker, which
 * scales a real Deployment and verifies against the real Prometheus.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RemediationResult } from '../../domain/run.ts';
import { remediationWorkflowId } from '../../domain/run.ts';
import { statusQuery } from '../../domain/messages.ts';
import { remoteWrite } from '../../devstack/remote-write.ts';
import { createPolicy, readPolicy, useKubeMedic } from '../support/kubemedic.ts';
import { eventually, useTestNamespace } from '../support/stack.ts';
import { createDeployment, readDeployment } from '../support/workloads.ts';
import { saveHistory } from '../support/histories.ts';

const namespace = useTestNamespace('kme');
const medic = useKubeMedic();

/** A policy that doubles a Deployment while its load, written by the test, is above 0.8. */
function scaleOnLoad(deployment: string) {
  return {
    target: { kind: 'Deployment', name: deployment },
    evaluationInterval: '1s',
    conditions: [
      {
        name: 'load',
        source: 'Prometheus',
        prometheus: { query: `kubemedic_e2e_load{namespace="${namespace.name}"}` },
        operator: '>',
        threshold: 0.8,
      },
    ],
    actions: [{ type: 'Scale', scale: { factor: 2, maxReplicas: 10 } }],
    verification: { settle: '3s' },
    cooldown: '1s',
  };
}

const workflowIdFor = (deployment: string, policy: string) =>
  remediationWorkflowId(
    medic.cluster,
    { kind: 'Deployment', namespace: namespace.name, name: deployment },
    { kind: 'RemediationPolicy', namespace: namespace.name, name: policy },
  );

const load = (deployment: string, value: number) =>
  remoteWrite([{ labels: { __name__: 'kubemedic_e2e_load', namespace: namespace.name, deployment }, value }]);

async function phaseOf(workflowId: string): Promise<string | undefined> {
  try {
    return (await medic.client.workflow.getHandle(workflowId).query(statusQuery)).phase;
  } catch {
    return undefined; // not started yet
  }
}

describe('a remediation driven by a PromQL condition', () => {
  it(
    'scales the Deployment, verifies that the load fell, and records the outcome',
    { timeout: 120_000 },
    async () => {
      // Given a Deployment of 2 replicas under a scale-on-load policy, and a watcher
      await createDeployment(namespace.name, 'web', 2);
      await createPolicy(
        'RemediationPolicy',
        { name: 'scale-web', namespace: namespace.name },
        scaleOnLoad('web'),
      );
      await medic.startWatcher();
      const workflowId = workflowIdFor('web', 'scale-web');

      // When the load goes above the threshold
      await load('web', 0.95);
      // Then the Deployment is scaled to 4
      await eventually('replicas=4', async () =>
        (await readDeployment(namespace.name, 'web')).spec?.replicas === 4 ? true : undefined,
      );
      // And once the run verifies and the load has fallen, it succeeds
      await eventually('the run to verify', async () =>
        (await phaseOf(workflowId)) === 'Verifying' ? true : undefined,
      );
      await load('web', 0.2);
      const result: RemediationResult = await medic.client.workflow.getHandle(workflowId).result();
      assert.equal(result.outcome, 'Succeeded', result.reason);
      assert.match(result.reason, /scaled .*2 to 4/);
      assert.equal((await readDeployment(namespace.name, 'web')).spec?.replicas, 4);
      // And the policy status carries the outcome
      const policy = await readPolicy('RemediationPolicy', { name: 'scale-web', namespace: namespace.name });
      assert.equal((policy.status?.lastOutcome as { outcome: string }).outcome, 'Succeeded');
      // And the Web UI's current details say what the backup holds and what the action wrote
      const metadata = await medic.client.workflow
        .getHandle(workflowId)
        .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      assert.match(metadata.currentDetails ?? '', /backup of Deployment web .*`\/spec\/replicas` = `2`/);
      assert.match(metadata.currentDetails ?? '', /wrote `\/spec\/replicas` = `4`/);
      assert.match(metadata.currentDetails ?? '', /\*\*Outcome\*\* Succeeded: scaled/);
      await saveHistory(medic.client, workflowId, 'scale-succeeded');
    },
  );

  it('rolls back exactly to the backup when the load does not fall', { timeout: 120_000 }, async () => {
    // Given a second Deployment of 3 replicas under the same kind of policy
    await createDeployment(namespace.name, 'api', 3);
    await createPolicy(
      'RemediationPolicy',
      { name: 'scale-api', namespace: namespace.name },
      scaleOnLoad('api'),
    );
    const workflowId = workflowIdFor('api', 'scale-api');
    const before = await readDeployment(namespace.name, 'api');

    // When the load goes high and stays high
    await load('api', 0.99);
    const result: RemediationResult = await eventually('the run to end', async () => {
      const phase = await phaseOf(workflowId);
      return phase === undefined ? undefined : medic.client.workflow.getHandle(workflowId).result();
    });

    // Then the run is rolled back, and the touched field equals the backup exactly
    assert.equal(result.outcome, 'RolledBack', result.reason);
    const step = result.steps[0]!;
    assert.equal(step.rollback?.outcome, 'RolledBack');
    assert.deepEqual(step.backup?.fields, { '/spec/replicas': 3 });
    assert.equal((await readDeployment(namespace.name, 'api')).spec?.replicas, before.spec?.replicas);
    await saveHistory(medic.client, workflowId, 'scale-rolled-back');
  });
});

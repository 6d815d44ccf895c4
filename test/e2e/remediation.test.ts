/**
 * The remediation loop end to end on the real stack: a PromQL condition driven through remote
 * write fires the real policy watcher, which starts the real workflow on a real worker, which
 * scales a real Deployment and verifies against the real Prometheus. The same cases run on both
 * of the stack's Temporal servers: the dev server and temporal-server on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { temporalServers } from '../../devstack/environment.ts';
import { deploymentPolicy, scale } from '../support/policy-builder.ts';
import { loadAbove, useScenario } from '../support/scenario.ts';
import { readDeployment } from '../support/workloads.ts';

for (const temporal of temporalServers) {
  describe(`a remediation driven by a PromQL condition, on the ${temporal.label}`, () => {
    const { namespace, scenario } = useScenario('kme', { temporal });

    /** A policy that doubles a Deployment while its load, written by the test, is above 0.8. */
    const scaleOnLoad = (deployment: string) =>
      deploymentPolicy(deployment, {
        evaluationInterval: '1s',
        conditions: [loadAbove(namespace.name, 0.8)],
        actions: [scale({ factor: 2, maxReplicas: 10 })],
        verification: { settle: '3s' },
      });

    it(
      'scales the Deployment, verifies that the load fell, and records the outcome',
      { timeout: 120_000 },
      async (t) => {
        const s = scenario(t);
        const { given, when, then } = s;
        await given.deployment('web', 2);
        await given.policy('scale-web', scaleOnLoad('web'));
        await given.watcher();

        await when.loadIs(0.95);
        await then.replicasBecome(4);
        // And once the run verifies and the load has fallen, it succeeds
        await then.runReaches('Verifying');
        await when.loadIs(0.2);
        await then.runEndsAs('Succeeded', /scaled .*2 to 4/);
        await then.replicasAre(4);
        await then.policyRecords('Succeeded');
        // And the Web UI's current details say what the backup holds and what the action wrote
        const metadata = await s.run.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
        assert.match(metadata.currentDetails ?? '', /backup of Deployment web .*`\/spec\/replicas` = `2`/);
        assert.match(metadata.currentDetails ?? '', /wrote `\/spec\/replicas` = `4`/);
        assert.match(metadata.currentDetails ?? '', /\*\*Outcome\*\* Succeeded: scaled/);
        await then.historyRecordedAs('scale-succeeded');
      },
    );

    it('rolls back exactly to the backup when the load does not fall', { timeout: 120_000 }, async (t) => {
      const { given, when, then } = scenario(t);
      await given.deployment('api', 3);
      await given.policy('scale-api', scaleOnLoad('api'));
      const before = await readDeployment(namespace.name, 'api');

      // When the load goes high and stays high (the file's watcher, started above, evaluates it)
      await when.loadIs(0.99);

      // Then the run is rolled back, and the touched field equals the backup exactly
      const result = await then.runEndsAs('RolledBack');
      const step = result.steps[0]!;
      assert.equal(step.rollback?.outcome, 'RolledBack');
      assert.deepEqual(step.backup?.fields, { '/spec/replicas': 3 });
      await then.replicasAre(before.spec!.replicas!);
      await then.historyRecordedAs('scale-rolled-back');
    });
  });
}

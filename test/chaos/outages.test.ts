/**
 * Chaos: the servers a run depends on go away in the middle of it, on the real stack. The API
 * server is stopped for 30 s while a run settles; Temporal is stopped and restarted on its own
 * database file; Prometheus is stopped while a run verifies. Every run completes after recovery
 * with the outcome its policy asks for. Each test brings the stack back up even when it fails,
 * so the files after it find it whole.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopProcess } from '../../devstack/processes.ts';
import { startServer } from '../../devstack/stack.ts';
import { deploymentPolicy, scale } from '../support/policy-builder.ts';
import { loadAbove, useScenario } from '../support/scenario.ts';

const { namespace, scenario } = useScenario('kmo');

/** Stops one of the stack's servers for `ms`, runs `meanwhile`, then starts it again whatever happens. */
async function withServerStopped(
  server: string,
  ms: number,
  meanwhile: () => Promise<void> = async () => {},
) {
  const started = Date.now();
  assert.ok(await stopProcess(server), `${server} was running and is stopped`);
  try {
    await meanwhile();
    await sleep(Math.max(0, ms - (Date.now() - started)));
  } finally {
    await startServer(server, (line) => console.error(`[devstack] ${line}`));
  }
  console.log(
    `# chaos: ${server} was down for ${((Date.now() - started) / 1000).toFixed(1)} s (with its restart)`,
  );
}

describe('chaos: servers stopped in the middle of runs', () => {
  it(
    'the API server stopped for 30 s while a run settles: the run completes after recovery',
    { timeout: 600_000 },
    async (t) => {
      const { given, when, then } = scenario(t);
      await given.scalePolicy('through-api-outage', { verification: { settle: '40s' } });
      await when.runStarts();
      await then.runReaches('Verifying');
      await withServerStopped('kube-apiserver', 30_000);
      await then.runEndsAs('Succeeded');
      await then.replicasAre(3);
      await then.policyRecords('Succeeded');
    },
  );

  it(
    'Temporal stopped and restarted on its own database: the run completes',
    { timeout: 600_000 },
    async (t) => {
      const { given, when, then } = scenario(t);
      await given.scalePolicy('through-temporal-restart', { verification: { settle: '15s' } });
      await when.runStarts();
      await then.runReaches('Verifying');
      await withServerStopped('temporal', 5_000);
      await then.runEndsAs('Succeeded');
      await then.replicasAre(3);
    },
  );

  it(
    'Prometheus stopped while a run verifies: no data, so Inconclusive rolls back and ends Failed',
    { timeout: 600_000 },
    async (t) => {
      const { given, when, then } = scenario(t);
      await given.deployment('through-prometheus-outage', 2);
      await given.policy(
        'through-prometheus-outage',
        deploymentPolicy('through-prometheus-outage', {
          conditions: [loadAbove(namespace.name, 0.8)],
          actions: [scale({ replicas: 3 })],
          verification: { settle: '1s', readings: 3, interval: '2s', onNoData: 'Inconclusive' },
        }),
      );
      await withServerStopped('prometheus', 0, async () => {
        await when.runStarts();
        await then.runEndsAs('Failed', /^verification inconclusive: 3 of 3 readings had no data/);
      });
      await then.replicasAre(2, 'rolled back to exactly what it was');
    },
  );
});

/**
 * The storm of governor.test.ts again, with the worker process killed (SIGKILL) at random moments
 * and started anew: the limits still hold exactly.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { it } from 'node:test';
import { spawnWorkerProcess } from '../support/kubemedic.ts';
import { useScenario } from '../support/scenario.ts';
import { assertExactStorm, runStorm } from '../support/storm.ts';

// The storm is its own fixture (storm.ts: given, when and then in one); the scenario gives the
// namespace and KubeMedic, with no worker in this process: the test runs worker processes.
const { namespace, medic } = useScenario('kmk', { inProcessWorker: false });

it(
  'holds the storm limits exactly while the worker is killed at random moments',
  { timeout: 300_000 },
  async () => {
    let worker: ChildProcess = await spawnWorkerProcess(medic.cluster);
    let kills = 0;
    let nextKillAt = Date.now() + 2_000 + Math.random() * 3_000;
    const storm = await runStorm(medic, namespace.name, async () => {
      if (kills < 3 && Date.now() >= nextKillAt) {
        worker.kill('SIGKILL');
        worker = await spawnWorkerProcess(medic.cluster);
        kills += 1;
        nextKillAt = Date.now() + 2_000 + Math.random() * 4_000;
      }
    });
    assert.ok(kills >= 1, 'the worker was killed during the storm');
    await assertExactStorm(storm);
  },
);

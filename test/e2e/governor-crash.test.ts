/**
 * The storm of governor.test.ts again, with the worker process killed (SIGKILL) at random moments
 * and started anew: the limits still hold exactly.
 */
import type { ChildProcess } from 'node:child_process';
import { it } from 'node:test';
import { spawnWorkerProcess, useKubeMedic } from '../support/kubemedic.ts';
import { useTestNamespace } from '../support/stack.ts';
import { assertExactStorm, runStorm } from '../support/storm.ts';

const namespace = useTestNamespace('kmk');
const medic = useKubeMedic({ inProcessWorker: false });

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
    await assertExactStorm(storm);
  },
);

/**
 * The global pause switch during a storm: 50 targets breach at once under a policy that lets 5 act
 * at a time; once a few runs hold permits, the cluster governor is paused. The runs that held a
 * permit finish; from the moment the pause is in the governor, no permit is granted — the next
 * decision already refuses, well within one evaluation interval — and every other run ends
 * Skipped, saying it was paused and by whom.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globalGovernorId, governorStatusQuery, pauseSignal, resumeSignal } from '../../domain/governor.ts';
import { useScenario } from '../support/scenario.ts';
import { eventually } from '../support/stack.ts';
import { runStorm } from '../support/storm.ts';

// The storm is its own fixture (storm.ts); the scenario gives the namespace and KubeMedic.
const { namespace, medic } = useScenario('kmpause');

describe('the global pause during a storm', () => {
  it(
    'lets runs holding a permit finish and refuses every other, with the reason',
    { timeout: 300_000 },
    async () => {
      const cluster = medic.client.workflow.getHandle(globalGovernorId(medic.cluster));
      let grantedBeforePause: number | undefined;

      // Given the storm of 50 targets (max 5 at once, 10 an hour, 3 watchers)
      const storm = await runStorm(medic, namespace.name, async () => {
        if (grantedBeforePause !== undefined) return;
        // Permits held from the cluster governor, the last one a run asks: these runs are acting.
        const active = (await cluster.query(governorStatusQuery).catch(() => undefined))?.active.length ?? 0;
        if (active < 3) return;
        // When a few runs hold permits, the on-call pauses the cluster
        await cluster.signal(pauseSignal, { by: 'oncall', reason: 'storm' });
        const paused = await eventually('the governor to hold the pause', async () => {
          const status = await cluster.query(governorStatusQuery);
          return status.paused ? status : undefined;
        });
        grantedBeforePause = paused.grantedLastHour;
      });

      // Then no permit was granted after the pause reached the governor
      assert.ok(grantedBeforePause !== undefined, 'the storm was paused');
      const after = await cluster.query(governorStatusQuery);
      assert.equal(after.grantedLastHour, grantedBeforePause, 'grants after the pause');
      // And exactly the runs that held a permit acted; every other run was refused as paused
      const executed = storm.outcomes.filter((s) => s.steps.some((step) => step.executed !== undefined));
      const skipped = storm.outcomes.filter((s) => s.outcome === 'Skipped');
      assert.equal(executed.length, grantedBeforePause);
      assert.ok(executed.length >= 3 && executed.length <= 5, `${executed.length} acted`);
      assert.equal(skipped.length, 50 - executed.length);
      for (const run of skipped) assert.equal(run.reason, 'paused: paused by oncall: storm');
      assert.ok(storm.peak <= 5, `peak concurrent ${storm.peak}`);
      console.log(
        `pause during a storm: ${executed.length} runs held a permit and finished, ${skipped.length} refused as paused, peak ${storm.peak}`,
      );
      await cluster.signal(resumeSignal, { by: 'oncall' });
    },
  );
});

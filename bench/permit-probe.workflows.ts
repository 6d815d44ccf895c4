/**
 * Workflows for bench/permit-latency.ts only: the governor itself, a run's side of the permit
 * protocol with nothing else around it (in today's shape and in the signal-per-governor shape
 * runs used before `permits-by-update`), and an empty workflow as the baseline.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { GovernorActivities } from '../activities/governors.ts';
import { type Governor } from '../domain/governor.ts';
import { Permits } from '../workflows/permits.ts';

export { governor } from '../workflows/governor.ts';

const { requestPermits } = proxyActivities<GovernorActivities>({ startToCloseTimeout: '30 seconds' });
const scope = {
  cluster: 'bench',
  policy: {
    kind: 'RemediationPolicy' as const,
    namespace: 'bench',
    name: 'policy',
    uid: 'bench',
    generation: 1,
  },
};

/** Asks every governor for a permit by update, then releases them: what a remediation run adds for its gate. */
export async function permitProbe(governors: Governor[]): Promise<boolean> {
  const permits = new Permits();
  const refused = await permits.acquireByUpdate(
    (input) => requestPermits({ ...input, governors: input.governors ?? governors }),
    {
      scope,
      targetKey: 'bench/target',
    },
  );
  await permits.releaseAll(false);
  return refused === undefined;
}

/** The same, asking each governor by signal and hearing by signal, as runs did before. */
export async function permitProbeBySignal(governors: Governor[]): Promise<boolean> {
  const permits = new Permits();
  const refused = await permits.acquire(governors, 'bench/target');
  await permits.releaseAll(false);
  return refused === undefined;
}

/** The same workflow start and completion, without a governor: the baseline. */
export async function noGovernor(): Promise<boolean> {
  return true;
}

/**
 * Workflows for bench/permit-latency.ts only: the governor itself, a run's side of the permit
 * protocol with nothing else around it, and an empty workflow as the baseline.
 */
import { Permits } from '../workflows/permits.ts';
import { type Governor } from '../domain/governor.ts';

export { governor } from '../workflows/governor.ts';

/** Asks every governor for a permit, then releases them: what a remediation run adds for its gate. */
export async function permitProbe(governors: Governor[]): Promise<boolean> {
  const permits = new Permits();
  const refused = await permits.acquire(governors, 'bench/target');
  await permits.releaseAll(false);
  return refused === undefined;
}

/** The same workflow start and completion, without a governor: the baseline. */
export async function noGovernor(): Promise<boolean> {
  return true;
}

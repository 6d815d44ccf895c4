import { patched, sleep } from '@temporalio/workflow';

/**
 * Time inside a workflow. Temporal's sandbox replaces Date with the time of the workflow task
 * being processed, so this is the same on every replay: it is not a wall clock. The lint rule
 * against Date.now in workflows/ exists so that every read of time goes through here.
 */
// eslint-disable-next-line no-restricted-properties -- the one sanctioned read of workflow time
export const workflowTime = (): number => Date.now();

/**
 * A durable wait of `ms`. Zero needs no timer: Temporal fires even a 1 ms timer only when its
 * timer queue next looks, about a second later, so a settle or cooldown of 0s cost a second each.
 * Runs recorded before it replay with their timers.
 */
export async function waitFor(ms: number): Promise<void> {
  if (ms <= 0 && patched('zero-durations-without-timers')) return;
  await sleep(ms);
}

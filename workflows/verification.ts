/**
 * Verification over a window, in the manner of Argo Rollouts' analysis: `readings` readings
 * `interval` apart; more than `failureLimit` unhealthy readings fail it; readings without data
 * follow `onNoData`, and with `Inconclusive` they make the verdict inconclusive instead of
 * passing or failing it. A reading that could not be taken at all (Prometheus or the API server
 * unreachable) is a reading without data, never the end of the run.
 */
import type { PolicySpec } from '../api/policy.ts';
import { parseDuration } from '../domain/duration.ts';
import type { Verdict } from '../domain/run.ts';

export interface VerificationWindow {
  readings: number;
  intervalMs: number;
  failureLimit: number;
  onNoData: 'Fail' | 'Pass' | 'Inconclusive';
}

export const verificationWindow = (verification: PolicySpec['verification']): VerificationWindow => ({
  readings: verification?.readings ?? 1,
  intervalMs: parseDuration(verification?.interval ?? '30s'),
  failureLimit: verification?.failureLimit ?? 0,
  onNoData: verification?.onNoData ?? 'Fail',
});

/** A reading that could not be taken, as a reading without data. */
export const failedReading = (window: VerificationWindow, why: string): Verdict => ({
  healthy: window.onNoData === 'Pass',
  noData: true,
  readings: [],
  reason: `the reading could not be taken (${why}); onNoData is ${window.onNoData}`,
});

/** Takes the window's readings (stopping early once it has failed) and judges them. */
export async function verifyOverWindow(
  window: VerificationWindow,
  readOnce: () => Promise<Verdict>,
  wait: (ms: number) => Promise<void>,
): Promise<Verdict> {
  const taken: Verdict[] = [];
  for (let i = 0; i < window.readings; i++) {
    if (i > 0) await wait(window.intervalMs);
    taken.push(await readOnce());
    if (unhealthy(window, taken).length > window.failureLimit) break;
  }
  return judged(window, taken);
}

const unhealthy = (window: VerificationWindow, taken: Verdict[]) =>
  taken.filter((v) => !v.healthy && !(v.noData && window.onNoData === 'Inconclusive'));

/** The verdict of the readings taken; pure, so the rule is unit-tested without a server. */
export function judged(window: VerificationWindow, taken: Verdict[]): Verdict {
  const last = taken.at(-1)!;
  const failing = unhealthy(window, taken);
  const withoutData = taken.filter((v) => v.noData && window.onNoData === 'Inconclusive');
  // One reading is judged as it was before windows existed: its own reason, unchanged.
  if (window.readings === 1) {
    return withoutData.length > 0
      ? { ...last, inconclusive: true, reason: `inconclusive: ${last.reason}` }
      : last;
  }
  const counted = `${failing.length} of ${taken.length} readings unhealthy (failureLimit ${window.failureLimit})`;
  if (failing.length > window.failureLimit) {
    return { ...failing.at(-1)!, healthy: false, reason: `${counted}; the last: ${failing.at(-1)!.reason}` };
  }
  if (withoutData.length > 0) {
    return {
      ...last,
      healthy: false,
      inconclusive: true,
      reason: `inconclusive: ${withoutData.length} of ${taken.length} readings had no data; ${counted}; the last: ${last.reason}`,
    };
  }
  return { ...last, healthy: true, reason: `${counted}; the last: ${last.reason}` };
}

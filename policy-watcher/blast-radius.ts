/**
 * Blast radius, as Cluster API's MachineHealthCheck has it (maxUnhealthy,
 * unhealthyLessThanOrEqualTo): when too many of a policy's targets are unhealthy at once, the
 * cause is rarely in the targets themselves (a bad rollout, a lost zone, a broken dependency or a
 * broken signal), and remediating them all would only make things worse. So none is remediated
 * and a person should look. After such a storm a cooldown holds: nothing starts for the policy
 * for `stormCooldown` after the storm was last seen, even once the count is back under the limit,
 * since the targets still firing then are most likely the storm's tail.
 *
 * Pure: counts, limits and the time the last storm was seen go in; a verdict and the words for
 * it come out. The watcher keeps the memory of storms (see `PolicyWatcher`).
 */
import type { PolicySpec } from '../api/policy.ts';
import { parseDuration } from '../domain/duration.ts';

export type BlastRadius = NonNullable<PolicySpec['blastRadius']>;
export type BlastRadiusLimits = Pick<BlastRadius, 'maxUnhealthy' | 'maxUnhealthyPercent'>;

/** Whether `unhealthy` of `matched` targets is above the limits, and if so the words for it. */
export type Judgement = { exceeded: false } | { exceeded: true; message: string };

/**
 * Above the limit means strictly above: exactly `maxUnhealthy` unhealthy targets, or exactly
 * `maxUnhealthyPercent` percent of them, is still allowed. No limit set, or no target matched,
 * is never above.
 */
export function judgeBlastRadius(
  unhealthy: number,
  matched: number,
  limits: BlastRadiusLimits | undefined,
): Judgement {
  const above: string[] = [];
  if (limits?.maxUnhealthy !== undefined && unhealthy > limits.maxUnhealthy) {
    above.push(`${limits.maxUnhealthy}`);
  }
  // In integers, so 2 of 5 against 40% is exactly at the limit, with no rounding in between.
  if (limits?.maxUnhealthyPercent !== undefined && unhealthy * 100 > limits.maxUnhealthyPercent * matched) {
    above.push(`${limits.maxUnhealthyPercent}%`);
  }
  if (above.length === 0) return { exceeded: false };
  const limit = above.length === 1 ? `the limit of ${above[0]}` : `the limits of ${above.join(' and ')}`;
  return {
    exceeded: true,
    message: `${unhealthyText(unhealthy, matched)}, above ${limit}: remediating none; a person should look`,
  };
}

/** "6 of 10 targets are unhealthy (60%)". */
export function unhealthyText(unhealthy: number, matched: number): string {
  const share = matched === 0 ? '' : ` (${percentText((unhealthy * 100) / matched)})`;
  return `${unhealthy} of ${matched} target${matched === 1 ? '' : 's'} ${unhealthy === 1 ? 'is' : 'are'} unhealthy${share}`;
}

/** 60%, 33.33%: at most two decimals, none when whole. */
function percentText(percent: number): string {
  return `${Number(percent.toFixed(2))}%`;
}

export interface BlastRadiusInput {
  /** Targets whose conditions fired in this evaluation (after their `for` clocks). */
  unhealthy: number;
  /** Targets the policy matched in this evaluation. */
  matched: number;
  blastRadius: PolicySpec['blastRadius'];
  /** When this policy's last storm was last seen, if the watcher remembers one. */
  lastStormMs: number | undefined;
  nowMs: number;
}

export type BlastRadiusDecision =
  /** Start remediations as usual; any storm the watcher remembers is over. */
  | { verdict: 'Remediate' }
  /**
   * Too many unhealthy now: start none. `newStorm` when no storm was in its cooldown, that is
   * when the Warning Event is due. The storm is seen at `nowMs`; its cooldown ends at `untilMs`.
   */
  | { verdict: 'BlastRadius'; message: string; event: string; newStorm: boolean; untilMs: number }
  /** Under the limits now, but a storm was seen less than `stormCooldown` ago: start none. */
  | { verdict: 'StormCooldown'; message: string; untilMs: number };

/**
 * The verdict for one evaluation of one policy. The cooldown runs from the last evaluation that
 * saw the storm, so a storm that lasts longer than `stormCooldown` is still followed by a full
 * cooldown. It is measured with the policy's current `stormCooldown`, so a person who shortens
 * it (or removes `blastRadius`) ends a cooldown at once.
 */
export function decideBlastRadius(input: BlastRadiusInput): BlastRadiusDecision {
  const { unhealthy, matched, blastRadius, lastStormMs, nowMs } = input;
  if (blastRadius === undefined) return { verdict: 'Remediate' };
  const cooldown = blastRadius.stormCooldown ?? '10m';
  const cooldownMs = parseDuration(cooldown);
  const inCooldown = lastStormMs !== undefined && nowMs < lastStormMs + cooldownMs;
  const judgement = judgeBlastRadius(unhealthy, matched, blastRadius);
  if (judgement.exceeded) {
    const untilMs = nowMs + cooldownMs;
    return {
      verdict: 'BlastRadius',
      message: judgement.message,
      event: `${judgement.message}. No remediation of this policy starts until ${iso(untilMs)} (stormCooldown ${cooldown} after the storm was last seen).`,
      newStorm: !inCooldown,
      untilMs,
    };
  }
  if (inCooldown) {
    const untilMs = lastStormMs + cooldownMs;
    return {
      verdict: 'StormCooldown',
      message:
        `storm cooldown: too many targets were unhealthy at ${iso(lastStormMs)}; no remediation starts ` +
        `until ${iso(untilMs)} (stormCooldown ${cooldown}); now ${unhealthyText(unhealthy, matched)}`,
      untilMs,
    };
  }
  return { verdict: 'Remediate' };
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The governor's protocol, shared by the governor workflow, the remediation run that asks it,
 * the activity that starts it, the watcher that reports storms and the CLI: names, IDs, the
 * messages and their payloads. The decisions themselves are in workflows/governor.ts.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export interface Limits {
  maxConcurrent?: number;
  maxPerHour?: number;
  maxAttemptsPerTarget?: number;
  /** Window of maxAttemptsPerTarget, in milliseconds. */
  attemptsWindowMs?: number;
}

export interface PermitRequest {
  workflowId: string;
  /** The asking run, so a lease check reaches that run and not a later one with the same ID. */
  runId?: string;
  targetKey: string;
  limits: Limits;
}

export type PermitCode = 'granted' | 'rate-limited' | 'paused' | 'needs-attention' | 'storm-cooldown';

export interface PermitAnswer {
  governor: string;
  granted: boolean;
  code: PermitCode;
  reason: string;
  /** needs-attention: when (workflow time, ms) the target's oldest counted attempt leaves the window. */
  untilMs?: number;
}

export interface GovernorState {
  active: string[];
  queue: PermitRequest[];
  /** Grant times (workflow time, ms) within the last hour. */
  granted: number[];
  /** Grant times by target, within each target's attempts window. */
  attempts: Record<string, number[]>;
  /** Each target's attempts window (ms), so pruning keeps exactly what its limit looks at. */
  attemptWindows?: Record<string, number>;
  paused?: { by: string; reason: string };
  /** When each active permit was granted and for which target, so an unused one can be refunded. */
  grants?: Record<string, { atMs: number; targetKey: string; runId?: string }>;
  /** The last storm reported: nothing is granted before `untilMs` (workflow time). */
  storm?: { untilMs: number; message: string };
}

export interface GovernorStatus {
  active: string[];
  queued: number;
  grantedLastHour: number;
  paused?: GovernorState['paused'];
  storm?: GovernorState['storm'];
}

/** From the watcher: too many of the policy's targets are unhealthy (policy-watcher/blast-radius.ts). */
export interface StormReport {
  /** The policy's stormCooldown, in ms: it runs from the governor's receipt of this report. */
  cooldownMs: number;
  /** What the watcher saw, e.g. "6 of 10 targets are unhealthy (60%), above the limit of 40%: …". */
  message: string;
}

export const requestPermitSignal = defineSignal<[PermitRequest]>('requestPermit');
/**
 * The cheaper way to ask (runs since `permits-by-update`): an update sent by the workers'
 * requestPermits activities, several requests at once (activities/permit-batches.ts), each
 * answered in the governor's same workflow task when it can be decided at once; `queued` when it
 * must wait, and then its answer comes as `permitSignal`.
 */
export const askPermitsUpdate = defineUpdate<(PermitAnswer | 'queued')[], [PermitRequest[]]>('askPermits');
/** `unused`: the run never acted (a later governor refused it), so the grant is given back. */
export const releasePermitSignal = defineSignal<[{ workflowId: string; unused?: boolean }]>('releasePermit');
export const pauseSignal = defineSignal<[{ by?: string; reason?: string }]>('pause');
export const resumeSignal = defineSignal<[{ by?: string }]>('resume');
export const stormDetectedSignal = defineSignal<[StormReport]>('stormDetected');
/** Sent by the governor to the requesting run. */
export const permitSignal = defineSignal<[PermitAnswer]>('permit');
/** Sent by the governor to each run holding a grant; it fails when that run has closed, which frees the grant. */
export const leaseCheckSignal = defineSignal('governorLeaseCheck');
/** A person frees a grant by hand (`kubemedic governor free`); the signal in the history is the audit. */
export const freeGrantSignal =
  defineSignal<[{ workflowId: string; by: string; reason: string }]>('freeGrant');
export const governorStatusQuery = defineQuery<GovernorStatus>('governorStatus');

export const globalGovernorId = (cluster: string) => `governor/${cluster}/cluster`;
export const policyGovernorId = (cluster: string, policy: string) => `governor/${cluster}/policy/${policy}`;
export const namespaceGovernorId = (cluster: string, namespace: string) =>
  `governor/${cluster}/namespace/${namespace}`;

/** A governor a run must ask, with the limits it enforces for that run. */
export interface Governor {
  id: string;
  limits: Limits;
}

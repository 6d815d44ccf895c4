/**
 * What an action is and leaves behind, as every layer sees it: the target, the backup, what
 * execute wrote, what a rollback found, and the refusals no retry can fix. Pure types and
 * values (the workflow sandbox imports them); the action modules are in activities/actions/.
 */
import type { ActionType, TargetKind } from '../api/policy.ts';
import type { Evidence } from './evidence.ts';

export interface TargetRef {
  kind: TargetKind;
  /** Absent for Nodes. */
  namespace?: string;
  name: string;
}

export const fieldManager = 'kubemedic';

/** JSON Pointer (RFC 6901) → value; `null` means the field is absent. */
export type FieldSnapshot = Record<string, unknown>;

export interface Backup {
  target: TargetRef;
  action: ActionType;
  /** The kind of object the fields belong to, when it is not the target (an HPA, say). */
  object: ObjectRef;
  resourceVersion: string;
  fields: FieldSnapshot;
  /** sha256 of the canonical JSON of `object` and `fields`; checked before a restore. */
  hash: string;
  capturedAt: string;
  /** What an action that removes pods kept of them first (not part of the hash: nothing restores it). */
  evidence?: Evidence;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

export interface ExecuteResult {
  /** The values written, by pointer; the input of rollback's conflict check. */
  written: FieldSnapshot;
  /** Before/after for each field; what a dry run reports. */
  changes: FieldChange[];
  /** One line for people: what was done. */
  summary: string;
}

export type RollbackOutcome = 'RolledBack' | 'NothingToRestore' | 'RollbackConflict' | 'NotReversible';

export interface RollbackResult {
  outcome: RollbackOutcome;
  /** Why, in words a person can act on. */
  reason: string;
  restored: FieldSnapshot;
  conflicts: { path: string; wrote: unknown; found: unknown }[];
}

/**
 * The refusals no retry can fix. Activities raise them as non-retryable ApplicationFailures of
 * this type; the workflow's retry policy and its Skipped/Failed decision read these lists.
 */
export const refusalTypes = [
  'TargetGone',
  'Forbidden',
  'Invalid',
  'NotApplicable',
  'Protected',
  'Quota',
  'DisruptionBudget',
  /** The run's policy is not on the API server (deleted, or never there: a forged run). */
  'PolicyGone',
  /** The run's policy is there but not as the run claims it (another uid, kind or namespace). */
  'PolicyMismatch',
] as const;
export type RefusalType = (typeof refusalTypes)[number];

/** Refusals that mean "not ours to touch (now)": the run ends Skipped. The others end it Failed. */
export const skippingRefusalTypes: readonly RefusalType[] = [
  'TargetGone',
  'Protected',
  'Quota',
  'DisruptionBudget',
  'PolicyGone',
  'PolicyMismatch',
];

export const isRefusal = (type: string | null | undefined): type is RefusalType =>
  refusalTypes.some((refusal) => refusal === type);

/**
 * An execute that ran and did not achieve its end (the Job failed, the drain missed its
 * deadline): a failed step, not a refusal. Raised non-retryable with what it had written as the
 * failure's details, so the workflow can roll it back and move on to the next rung.
 */
export const stepFailedType = 'StepFailed';

/**
 * Raised by an action whose execute ran but did not achieve its end (see stepFailedType), with
 * what it had written by then, so the workflow can roll that back and try the next rung.
 */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly executed?: ExecuteResult,
  ) {
    super(message);
    this.name = 'StepFailure';
  }
}

/** A refusal raised by an action or a guard; see refusalTypes. */
export class ActionError extends Error {
  constructor(
    readonly type: RefusalType,
    message: string,
  ) {
    super(message);
    this.name = 'ActionError';
  }
}

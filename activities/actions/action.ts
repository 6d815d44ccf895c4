/**
 * The contract every action module meets. An action is three idempotent steps, each run as
 * (part of) a Temporal activity:
 *
 * - `backup` reads exactly the fields the action will write (as JSON Pointers) and anything
 *   else needed to undo it; the result lives in the workflow history, hashed.
 * - `execute` writes those fields (server-side apply, field manager "kubemedic", or the
 *   subresource the action needs) and returns what it wrote. Running it twice leaves the
 *   same result. With `dryRun` the API server's dryRun=All is used and nothing persists.
 * - `rollback` restores the backed-up values, but only where the fields still hold what the
 *   action wrote: if anyone changed one since, nothing is restored and the outcome is
 *   RollbackConflict with the fields named (see restoreFields).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Action, ActionType, TargetKind } from '../../api/policy.ts';

export interface TargetRef {
  kind: TargetKind;
  /** Absent for Nodes. */
  namespace?: string;
  name: string;
}

export const fieldManager = 'kubemedic';

export interface ActionContext {
  /** Already impersonating the policy's ServiceAccount when it names one. */
  kubeconfig: KubeConfig;
  /**
   * KubeMedic's own identity, for the safety reads (HPA bounds, quota headroom) that a
   * tenant's narrower RBAC must not be able to switch off.
   */
  ownKubeconfig: KubeConfig;
  dryRun: boolean;
  /** Called during long waits (drain, job) so Temporal knows the activity is alive. */
  heartbeat: (details?: unknown) => void;
}

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

export interface ActionModule {
  type: ActionType;
  /** Target kinds this action can act on. */
  kinds: readonly TargetKind[];
  backup(ctx: ActionContext, target: TargetRef, action: Action): Promise<Backup>;
  execute(ctx: ActionContext, target: TargetRef, action: Action, backup: Backup): Promise<ExecuteResult>;
  rollback(ctx: ActionContext, backup: Backup, executed: ExecuteResult): Promise<RollbackResult>;
}

/**
 * A failure that retrying cannot fix. Activities turn these into non-retryable
 * ApplicationFailures of this `type`, so the workflow can explain the outcome.
 */
export class ActionError extends Error {
  constructor(
    readonly type:
      | 'TargetGone'
      | 'Forbidden'
      | 'Invalid'
      | 'NotApplicable'
      | 'BackupTampered'
      | 'Protected'
      | 'Quota'
      | 'DisruptionBudget',
    message: string,
  ) {
    super(message);
    this.name = 'ActionError';
  }
}

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
import type { Action, ActionType } from '../../api/policy.ts';
import type { Backup, ExecuteResult, RollbackResult, TargetRef } from '../../domain/actions.ts';

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

export interface ActionModule {
  type: ActionType;
  backup(ctx: ActionContext, target: TargetRef, action: Action): Promise<Backup>;
  execute(ctx: ActionContext, target: TargetRef, action: Action, backup: Backup): Promise<ExecuteResult>;
  rollback(ctx: ActionContext, backup: Backup, executed: ExecuteResult): Promise<RollbackResult>;
}

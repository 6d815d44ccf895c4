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
 *   RollbackConflict with the fields named (see restoreFields). It is given the Action, so
 *   what it needs from the policy is read there, not carried through the ExecuteResult.
 *
 * The target's kind was checked against the action catalogue before any step runs.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDuration } from '../../domain/duration.ts';
import type { Action, ActionType } from '../../api/policy.ts';
import { declarationOf, type ParameterBlock } from '../../domain/action-catalogue.ts';
import {
  ActionError,
  type Backup,
  type ExecuteResult,
  type RollbackResult,
  type TargetRef,
} from '../../domain/actions.ts';
import type { WriteScope } from './write-guard.ts';
import type { OutboundRules } from '../outbound.ts';

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
  /** Aborted when the run cancels the activity (delivered with a heartbeat); long waits stop. */
  signal?: AbortSignal;
  /** When the first attempt was scheduled: a timeout runs from there, not from each retry. */
  firstAttemptAt?: number;
  /**
   * The run's policy and the protected namespaces, for the guard every write goes through
   * (write-guard.ts). The activities always set it; without it a write is held to a cluster
   * policy's bounds (protection still applies).
   */
  scope?: WriteScope;
  /** What outbound calls (webhooks) may reach; without it the strict defaults (no loopback). */
  outbound?: OutboundRules;
}

/** The absolute deadline of a wait of `timeout`, the same for every retry of the activity. */
export const deadlineOf = (ctx: ActionContext, timeout: string) =>
  (ctx.firstAttemptAt ?? Date.now()) + parseDuration(timeout);

/** Waits `ms`, or until the activity is cancelled (which rejects, ending the wait). */
export const pause = (ctx: ActionContext, ms: number) => sleep(ms, undefined, { signal: ctx.signal });

/** `Executed` is what execute returns and rollback is given back: an ExecuteResult, perhaps with more. */
export interface ActionModule<Executed extends ExecuteResult = ExecuteResult> {
  type: ActionType;
  backup(ctx: ActionContext, target: TargetRef, action: Action): Promise<Backup>;
  execute(ctx: ActionContext, target: TargetRef, action: Action, backup: Backup): Promise<Executed>;
  rollback(ctx: ActionContext, backup: Backup, executed: Executed, action: Action): Promise<RollbackResult>;
}

/**
 * The action's parameter block, the one the catalogue declares for its type. The CRD requires
 * it; a policy admitted before that rule, or a block of another action, is Invalid here.
 */
export function parametersOf<Block extends ParameterBlock>(
  action: Action,
  block: Block,
): NonNullable<Action[Block]> {
  const parameters = action[block];
  if (declarationOf(action.type).parameters !== block || parameters === undefined)
    throw new ActionError('Invalid', `action ${action.type} needs its ${block} block`);
  return parameters;
}

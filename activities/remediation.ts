/**
 * The remediation workflow's activities. Each is idempotent, so Temporal may retry it; failures
 * that retrying cannot fix leave as non-retryable ApplicationFailures typed by ActionError.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Action, Condition } from '../api/policy.ts';
import type { ActivePhase, ConditionReading, Outcome, PolicyRef, TargetRef, Verdict } from '../domain/run.ts';
import { policyLabel, targetDisplay } from '../domain/run.ts';
import { countOutcome, countRollback } from './metrics.ts';
import { createGovernorActivities, type GovernorLimits } from './governors.ts';
import { refuseUnsafeTarget } from './safety.ts';
import { defaultProtectedNamespaces, refuseWithoutServiceAccount } from '../domain/protection.ts';
import { type ActionContext } from './actions/action.ts';
import type { WriteScope } from './actions/write-guard.ts';
import { verifiedPolicy, type VerifiedPolicy } from './policy-check.ts';
import {
  ActionError,
  type Backup,
  type ExecuteResult,
  type FieldChange,
  type FieldSnapshot,
  type RollbackResult,
  StepFailure,
  stepFailedType,
} from '../domain/actions.ts';
import { revertPartly } from './actions/gradual.ts';
import { actionModule } from './actions/index.ts';
import { declarationOf } from '../domain/action-catalogue.ts';
import { combined, describeReadings } from '../domain/conditions/compare.ts';
import { readConditions, targetKey } from '../domain/conditions/readings.ts';
import { readTargetState } from '../domain/conditions/targets.ts';
import { asServiceAccount } from '../domain/kube/impersonation.ts';
import { asRefusal, failedWith } from '../domain/kube/errors.ts';
import { callingRun } from './calling-run.ts';
import { createNotificationActivities, type DefaultSink } from './notify.ts';
import type { OutboundRules } from './outbound.ts';
import { recordPolicyOutcome, recordRunEvents } from '../domain/kube/policy-status.ts';

export interface ActivityDependencies extends GovernorLimits {
  kubeconfig: KubeConfig;
  prometheusUrl: string | undefined;
  /** Where verification reads the alerts of Alertmanager conditions (its API v2). */
  alertmanagerUrl?: string;
  /** Namespaces never touched, besides kube-system, kube-public and kube-node-lease. */
  protectedNamespaces?: string[];
  /** Refuse namespaced policies that name no ServiceAccount to act as. */
  requireServiceAccount?: boolean;
  /** KubeMedic's own namespace: where a cluster policy's notification Secrets live. */
  ownNamespace?: string;
  /** The Temporal Web UI's address, for links in notifications. */
  webUiUrl?: string;
  /** What webhook actions and notification sinks may reach (activities/outbound.ts). */
  outbound?: OutboundRules;
  /** The cluster's default notification sinks, their Secrets in ownNamespace (activities/notify.ts). */
  defaultSinks?: DefaultSink[];
}

export interface ActionInput {
  policy: PolicyRef;
  target: TargetRef;
  action: Action;
  dryRun: boolean;
}

export interface VerifyInput {
  policy: PolicyRef;
  target: TargetRef;
  conditions: Condition[];
  match: 'All' | 'Any';
  onNoData: 'Fail' | 'Pass' | 'Inconclusive';
}

export interface OutcomeInput {
  policy: PolicyRef;
  target: TargetRef;
  workflowId: string;
  outcome: Outcome;
  reason: string;
  /** The ladder's first action, for the metric label. */
  action?: string;
  /** A dry run's would-be changes, shown in the policy status. */
  changes?: FieldChange[];
  /** When the run started (ISO 8601), for the duration histogram; absent in runs recorded before it. */
  startedAt?: string;
  /**
   * false when the run's own first step found its policy not as claimed (checkPolicy): then
   * nothing is written for it, only counted. Absent in runs recorded before that check.
   */
  policyChecked?: boolean;
}

export function createRemediationActivities(deps: ActivityDependencies) {
  // KubeMedic's own namespace too: a run never writes to (or drains) the worker itself.
  const protectedNamespaces = [
    ...defaultProtectedNamespaces,
    ...(deps.protectedNamespaces ?? []),
    ...(deps.ownNamespace ? [deps.ownNamespace] : []),
  ];
  /**
   * Whom an action acts for, read once per activity attempt: the policy as the API server has it
   * (by the run's uid), its namespace as the write guard's bound and its ServiceAccount as the
   * identity, never the input's claims (policy-check.ts).
   */
  const actingFor = async (input: ActionInput): Promise<ActionContext & { scope: WriteScope }> => {
    const policy = await verifiedPolicy(deps.kubeconfig, input.policy);
    if (deps.requireServiceAccount) refuseWithoutServiceAccount(policy, policy.serviceAccountName);
    return {
      kubeconfig: impersonating(deps.kubeconfig, policy, input.target),
      ownKubeconfig: deps.kubeconfig,
      scope: { policy, protectedNamespaces, serviceAccountName: policy.serviceAccountName },
      outbound: deps.outbound,
      dryRun: input.dryRun,
      heartbeat: (details?: unknown) => Context.current().heartbeat(details),
      signal: Context.current().cancellationSignal,
      firstAttemptAt: Context.current().info.scheduledTimestampMs,
    };
  };
  /**
   * A rollback (or the last step of a revert, maybe hours later) writes only where an execute
   * may now: the write guard refuses a target labelled protected since, and one deleted since has
   * nothing to restore. Either is said in the result, not raised, so the run still ends cleanly.
   */
  const notUndone = (input: ActionInput, error: unknown): RollbackResult => {
    const refusal = asRefusal(error, targetDisplay(input.target));
    const nothing = { restored: {}, conflicts: [] };
    if (refusal instanceof ActionError && refusal.type === 'TargetGone') {
      return { outcome: 'NothingToRestore', reason: `${refusal.message}: nothing to restore`, ...nothing };
    }
    if (
      refusal instanceof ActionError &&
      (refusal.type === 'PolicyGone' || refusal.type === 'PolicyMismatch')
    ) {
      return {
        outcome: 'NotReversible',
        reason: `not restored: ${refusal.message} (KubeMedic acts only for a policy it can read: restore by hand with kubemedic restore if wanted)`,
        ...nothing,
      };
    }
    if (refusal instanceof ActionError && refusal.type === 'Protected') {
      return {
        outcome: 'NotReversible',
        reason: `not restored: ${refusal.message} (protected since the action; KubeMedic no longer writes to it: restore by hand with kubemedic restore if wanted)`,
        ...nothing,
      };
    }
    throw error;
  };
  const moduleFor = (input: ActionInput) => {
    const module = actionModule(input.action.type);
    const kinds = declarationOf(input.action.type).targetKinds;
    if (!kinds.includes(input.target.kind)) {
      throw new ActionError(
        'NotApplicable',
        `${input.action.type} acts on ${kinds.join(' or ')}, not on ${input.target.kind}`,
      );
    }
    return module;
  };

  /**
   * Whether the outcome may be written on the policy and the target: the run's policy checked at
   * its start and still the same one. One deleted since is still written about, on the target
   * and in the Events, as before: the run did act for it.
   */
  const mayRecord = async (input: OutcomeInput): Promise<boolean> => {
    if (input.policyChecked === false) return false;
    const refusal = await verifiedPolicy(deps.kubeconfig, input.policy).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (refusal instanceof ActionError && refusal.type === 'PolicyGone') return true;
    if (refusal instanceof ActionError) {
      Context.current().log.warn("outcome not written: the policy is not the run's", {
        reason: refusal.message,
      });
      return false;
    }
    if (refusal !== undefined) throw refusal;
    return true;
  };

  return {
    /**
     * The run's first step: its policy is on the API server with the run's uid, and a namespaced
     * policy's target is in its namespace. Until this passes the run writes nothing, not even an
     * Event, since every place it would write is named by the unchecked input.
     */
    async checkPolicy(input: { policy: PolicyRef; target: TargetRef }): Promise<void> {
      return explained(input.target, async () => {
        const policy = await verifiedPolicy(deps.kubeconfig, input.policy);
        if (policy.namespace !== undefined && input.target.namespace !== policy.namespace) {
          throw new ActionError(
            'PolicyMismatch',
            `RemediationPolicy ${policyLabel(policy)} may act only in namespace ${policy.namespace}, not on ${targetDisplay(input.target)}; nothing is done for it`,
          );
        }
      });
    },

    async backupTarget(input: ActionInput): Promise<Backup> {
      return explained(input.target, async () => {
        const module = moduleFor(input);
        const ctx = await actingFor(input);
        await refuseUnsafeTarget(deps.kubeconfig, ctx.scope, input.target);
        return module.backup(ctx, input.target, input.action);
      });
    },

    async executeAction(input: ActionInput & { backup: Backup }): Promise<ExecuteResult> {
      return explained(input.target, async () => {
        const module = moduleFor(input);
        const ctx = await actingFor(input);
        await refuseUnsafeTarget(deps.kubeconfig, ctx.scope, input.target);
        return module.execute(ctx, input.target, input.action, input.backup);
      });
    },

    async rollbackAction(
      input: ActionInput & { backup: Backup; executed: ExecuteResult },
    ): Promise<RollbackResult> {
      const result = await explained(input.target, async () => {
        const module = moduleFor(input);
        return actingFor(input)
          .then((ctx) => module.rollback(ctx, input.backup, input.executed, input.action))
          .catch((error: unknown) => notUndone(input, error));
      });
      countRollback(policyLabel(input.policy), input.action.type, result.outcome);
      return result;
    },

    /** One step of a gradual revert: numeric fields move `fraction` of the way back. */
    async revertPartly(
      input: ActionInput & {
        backup: Backup;
        executed: ExecuteResult;
        current: FieldSnapshot;
        fraction: number;
      },
    ): Promise<RollbackResult & { written: FieldSnapshot }> {
      // The write guard checks protection again at the write: a revert may come hours later.
      return explained(input.target, async () =>
        revertPartly(
          await actingFor(input),
          input.backup,
          input.executed.written,
          input.current,
          input.fraction,
        ),
      );
    },

    /** Healthy when the conditions no longer hold; no data follows the policy's onNoData. */
    async verifyTarget(input: VerifyInput): Promise<Verdict> {
      const state = await readTargetState(deps.kubeconfig, input.target).catch((error: unknown) => {
        if (failedWith(error, 404)) return undefined;
        throw error;
      });
      if (state === undefined) {
        // A target the action removed (a restarted standalone Pod) gives no data to verify.
        const healthy = input.onNoData === 'Pass';
        return {
          healthy,
          readings: [],
          noData: true,
          targetGone: true,
          reason: `the target is gone after the action; onNoData is ${input.onNoData}`,
        };
      }
      const readings: ConditionReading[] =
        (
          await readConditions(input.conditions, [state], {
            kubeconfig: deps.kubeconfig,
            prometheusUrl: deps.prometheusUrl,
            alertmanagerUrl: deps.alertmanagerUrl,
            now: new Date(),
          })
        ).get(targetKey(input.target)) ?? [];
      const missing = readings.filter((r) => r.value === null).map((r) => r.name);
      if (missing.length > 0) {
        const healthy = input.onNoData === 'Pass';
        return {
          healthy,
          readings,
          noData: true,
          reason: `no data for ${missing.join(', ')}; onNoData is ${input.onNoData}`,
        };
      }
      const stillHolds = combined(input.match, readings);
      return {
        healthy: !stillHolds,
        readings,
        reason: `${stillHolds ? 'conditions still hold' : 'conditions no longer hold'}: ${describeReadings(readings)}`,
      };
    },

    ...createGovernorActivities(deps),

    /**
     * Events on the policy and the target as a run enters a phase, with why. `step` tells the
     * rungs of the ladder apart; with the run's ID it names the Events, so a retry rewrites them.
     */
    async recordPhase(input: PhaseInput): Promise<void> {
      const type = input.phase === 'RollingBack' ? 'Warning' : 'Normal';
      await recordRunEvents(
        deps.kubeconfig,
        input,
        type,
        input.phase,
        input.message,
        runStepKey(`${input.phase}/${input.step}`),
      );
    },

    ...createNotificationActivities({
      kubeconfig: deps.kubeconfig,
      ownNamespace: deps.ownNamespace ?? 'kubemedic',
      webUiUrl: deps.webUiUrl,
      outbound: deps.outbound,
      defaultSinks: deps.defaultSinks,
    }),

    async recordOutcome(input: OutcomeInput): Promise<void> {
      if (await mayRecord(input)) {
        await recordPolicyOutcome(
          deps.kubeconfig,
          input,
          `${targetDisplay(input.target)}: ${input.outcome}`,
          runStepKey('outcome'),
        );
      }
      // Counted last, so a retry after a failed write above does not count the run twice.
      const seconds = input.startedAt ? (Date.now() - Date.parse(input.startedAt)) / 1000 : undefined;
      countOutcome(
        policyLabel(input.policy),
        input.action ?? 'unknown',
        input.outcome,
        input.reason,
        seconds,
      );
    },
  };
}

export type RemediationActivities = ReturnType<typeof createRemediationActivities>;

export interface PhaseInput {
  policy: PolicyRef;
  target: TargetRef;
  phase: Exclude<ActivePhase, 'Pending' | 'CoolingDown'>;
  /** The rung of the ladder the phase belongs to. */
  step: number;
  /** Why the run is in this phase, for a person reading `kubectl describe`. */
  message: string;
}

/** Names one step of the calling run: the same for every retry of the activity, new for every run. */
function runStepKey(step: string): string {
  const { workflowId, runId } = callingRun();
  return `${workflowId}/${runId}/${step}`;
}

/**
 * A policy that names a ServiceAccount acts as it, so the tenant's own RBAC bounds what it can
 * do: one of its namespace (a cluster policy's, of the target's namespace).
 */
function impersonating(base: KubeConfig, policy: VerifiedPolicy, target: TargetRef): KubeConfig {
  if (!policy.serviceAccountName) return base;
  const namespace = policy.namespace ?? target.namespace;
  const config = namespace && asServiceAccount(base, namespace, policy.serviceAccountName);
  if (!config) {
    throw new ActionError(
      'Invalid',
      'cannot impersonate a ServiceAccount without a namespace and a current user',
    );
  }
  return config;
}

/**
 * Turns failures retrying cannot fix into non-retryable ApplicationFailures of a known type:
 * ActionErrors, and API failures the modules did not map themselves (domain/kube/errors.ts).
 */
async function explained<T>(target: TargetRef, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof StepFailure) {
      throw ApplicationFailure.create({
        type: stepFailedType,
        message: error.message,
        nonRetryable: true,
        details: error.executed ? [error.executed] : [],
      });
    }
    const refusal = asRefusal(error, targetDisplay(target));
    if (refusal instanceof ActionError) throw ApplicationFailure.nonRetryable(refusal.message, refusal.type);
    throw error;
  }
}

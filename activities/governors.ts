/**
 * The activities between a run and the safety governors: which governors a run must ask (the
 * worker's configuration says which limits the cluster and each namespace enforce), and the ask
 * itself.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { PolicySpec } from '../api/policy.ts';
import {
  askPermitsUpdate,
  globalGovernorId,
  type Governor,
  type Limits,
  namespaceGovernorId,
  type PermitAnswer,
  policyGovernorId,
} from '../domain/governor.ts';
import { parseDuration } from '../domain/duration.ts';
import { type PolicyRef, policyLabel } from '../domain/run.ts';
import { initializeSeries } from './metrics.ts';
import { PermitBatches, type SendBatch } from './permit-batches.ts';

export interface GovernorLimits {
  /** What the cluster's governor enforces across every policy. */
  globalLimits?: Limits;
  /** Runs acting at once in one namespace, across every policy. */
  maxConcurrentPerNamespace?: number;
}

/** Whose permits a run needs. */
export interface GovernorScope {
  cluster: string;
  policy: PolicyRef;
  limits?: PolicySpec['limits'];
  /** The target's namespace; its governor is asked when a per-namespace limit is set. */
  namespace?: string;
  /** The ladder's first action, for the metric labels. */
  action?: string;
}

export interface PermitsInput {
  /** The governors still to ask, in order; unset: every governor of the scope (the first ask). */
  governors?: Governor[];
  scope: GovernorScope;
  workflowId: string;
  runId: string;
  targetKey: string;
}

/**
 * How far an ask got. The governors are asked in order and the ask stops at the first that does
 * not grant at once: `refused` carries its answer, `queued` names it (its answer comes later as a
 * signal to the run). `governors` is every governor of the scope, so the run knows what follows.
 */
export interface PermitProgress {
  governors: Governor[];
  granted: string[];
  refused?: PermitAnswer;
  queued?: string;
}

/** In the order a run asks them: its policy's, its namespace's (when limited), the cluster's. */
function governorsFor(scope: GovernorScope, deps: GovernorLimits): Governor[] {
  const { cluster, limits } = scope;
  return [
    {
      id: policyGovernorId(cluster, policyLabel(scope.policy)),
      limits: {
        maxConcurrent: limits?.maxConcurrent,
        maxPerHour: limits?.maxPerHour,
        maxAttemptsPerTarget: limits?.maxAttemptsPerTarget,
        attemptsWindowMs: parseDuration(limits?.attemptsWindow ?? '1h'),
      },
    },
    ...(scope.namespace !== undefined && deps.maxConcurrentPerNamespace !== undefined
      ? [
          {
            id: namespaceGovernorId(cluster, scope.namespace),
            limits: { maxConcurrent: deps.maxConcurrentPerNamespace },
          },
        ]
      : []),
    { id: globalGovernorId(cluster), limits: deps.globalLimits ?? {} },
  ];
}

const startOptions = (governorId: string, taskQueue: string) => ({
  workflowId: governorId,
  taskQueue,
  args: [] as [],
  workflowIdConflictPolicy: 'USE_EXISTING' as const,
  staticSummary: `KubeMedic safety governor ${governorId}`,
});

export function createGovernorActivities(deps: GovernorLimits) {
  const batches = new PermitBatches();
  return {
    /**
     * Runs recorded before `permits-by-update`: makes sure the governors run (start with
     * USE_EXISTING, on this worker's task queue) and says which limits each enforces; the run
     * then asks each by signal.
     */
    async ensureGovernors(scope: GovernorScope): Promise<Governor[]> {
      initializeSeries(policyLabel(scope.policy), scope.action ?? 'unknown');
      const { client, info } = Context.current();
      const governors = governorsFor(scope, deps);
      for (const { id } of governors)
        await client.workflow.start('governor', startOptions(id, info.taskQueue));
      return governors;
    },

    /**
     * Asks the governors in order by update-with-start (a governor not running yet is started),
     * one round trip each, batched with this worker's other asks (permit-batches.ts). A retried
     * attempt asks again and is answered, not counted again: the governor knows the run as a
     * holder, or as queued.
     */
    async requestPermits(input: PermitsInput): Promise<PermitProgress> {
      initializeSeries(policyLabel(input.scope.policy), input.scope.action ?? 'unknown');
      const { client, info } = Context.current();
      const governors = input.governors ?? governorsFor(input.scope, deps);
      const send: SendBatch = (governorId, requests) =>
        client.workflow.executeUpdateWithStart(askPermitsUpdate, {
          updateId: `permits/${randomUUID()}`,
          args: [requests],
          startWorkflowOperation: new WithStartWorkflowOperation(
            'governor',
            startOptions(governorId, info.taskQueue),
          ),
        });
      const granted: string[] = [];
      for (const governor of governors) {
        const { workflowId, runId, targetKey } = input;
        const reply = await batches.ask(
          governor.id,
          { workflowId, runId, targetKey, limits: governor.limits },
          send,
        );
        if (reply === 'queued') return { governors, granted, queued: governor.id };
        if (!reply.granted) return { governors, granted, refused: reply };
        granted.push(governor.id);
      }
      return { governors, granted };
    },
  };
}

export type GovernorActivities = ReturnType<typeof createGovernorActivities>;

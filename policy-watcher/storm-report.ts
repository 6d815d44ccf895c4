/**
 * Hands a blast-radius storm to the policy's governor, which keeps the storm cooldown (and
 * refuses permits with `storm-cooldown` until it ends) across watcher restarts and replicas.
 * Signal-with-start: the governor may not run yet if no run of the policy has asked it anything.
 */
import type { Client } from '@temporalio/client';
import { parseDuration } from '../domain/duration.ts';
import { policyGovernorId, stormDetectedSignal } from '../domain/governor.ts';
import { policyLabel } from '../domain/run.ts';
import { taskQueueFor } from '../domain/config/names.ts';
import type { CheckedPolicy } from './policies.ts';

export async function reportStorm(
  client: Client,
  cluster: string,
  policy: CheckedPolicy,
  message: string,
): Promise<void> {
  const workflowId = policyGovernorId(cluster, policyLabel(policy.ref));
  await client.workflow.signalWithStart('governor', {
    workflowId,
    taskQueue: taskQueueFor(cluster),
    args: [],
    signal: stormDetectedSignal,
    signalArgs: [{ cooldownMs: parseDuration(policy.spec.blastRadius?.stormCooldown ?? '10m'), message }],
    staticSummary: `KubeMedic safety governor ${workflowId}`,
  });
}

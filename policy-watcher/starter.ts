/**
 * Starts the remediation workflow for a target whose conditions fired. The workflow ID is
 * deterministic per target and policy and the start uses USE_EXISTING, so repeated triggers and
 * several watcher replicas are absorbed by Temporal, not by a lock.
 */
import { type Client, WorkflowIdConflictPolicy } from '@temporalio/client';
import { searchAttributes } from '../domain/search-attributes.ts';
import {
  type ConditionReading,
  policyLabel,
  type RemediationInput,
  remediationWorkflowId,
  remediationWorkflowType,
  type RemediationWorkflow,
  targetDisplay,
  type TargetRef,
} from '../domain/run.ts';
import { describeReadings } from '../domain/conditions/compare.ts';
import { taskQueueFor } from '../domain/config/names.ts';
import type { CheckedPolicy } from './policies.ts';
import { alertKey, type FiringAlert } from '../domain/conditions/alerts.ts';
import { triggeredByAlertsMemo } from './alert-triggers.ts';

export async function startRemediation(
  client: Client,
  cluster: string,
  policy: CheckedPolicy,
  target: TargetRef,
  readings: ConditionReading[],
  now: Date,
  /** The firing alerts that triggered the run, remembered so they never trigger another. */
  alerts: readonly FiringAlert[] = [],
): Promise<string> {
  const workflowId = remediationWorkflowId(cluster, target, policy.ref);
  const input: RemediationInput = {
    cluster,
    policy: policy.ref,
    spec: policy.spec,
    target,
    trigger: { observedAt: now.toISOString(), readings },
  };
  const actions = policy.spec.actions.map((a) => a.type).join(' → ');
  await client.workflow.start<RemediationWorkflow>(remediationWorkflowType, {
    taskQueue: taskQueueFor(cluster),
    workflowId,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    staticSummary: `${targetDisplay(target)} · policy ${policyLabel(policy.ref)} · ${actions}`.slice(0, 200),
    staticDetails: [
      `**Target** ${targetDisplay(target)} in cluster \`${cluster}\``,
      `**Policy** ${policy.ref.kind} \`${policyLabel(policy.ref)}\` (generation ${policy.ref.generation})`,
      `**Trigger** ${describeReadings(readings)} at ${input.trigger.observedAt}`,
      ...(alerts.length > 0
        ? [`**Alerts** ${alerts.map((a) => `${a.labels.alertname ?? '?'} (${alertKey(a)})`).join(', ')}`]
        : []),
      `**Actions** ${actions}${policy.spec.dryRun ? ' (dry run)' : ''}`,
      `**Approval** ${policy.spec.approval?.required ? `required within ${policy.spec.approval.timeout}` : 'not required'}`,
    ].join('\n\n'),
    ...(alerts.length > 0 ? { memo: { [triggeredByAlertsMemo]: alerts.map(alertKey) } } : {}),
    typedSearchAttributes: [
      { key: searchAttributes.cluster, value: cluster },
      { key: searchAttributes.policy, value: policyLabel(policy.ref) },
      { key: searchAttributes.targetKind, value: target.kind },
      { key: searchAttributes.targetName, value: target.name },
      { key: searchAttributes.phase, value: 'Pending' },
      { key: searchAttributes.action, value: policy.spec.actions[0]!.type },
      ...(target.namespace ? [{ key: searchAttributes.namespace, value: target.namespace }] : []),
    ],
  });
  return workflowId;
}

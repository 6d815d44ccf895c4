/**
 * Writes a policy's status: Ready (or Invalid, with the reason), observed generation, last
 * evaluation, matched targets and the remediations in flight, read from Temporal's visibility
 * (one list call per policy, filtered by KubeMedic's search attributes).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import type { PolicyStatus } from '../api/policy.ts';
import { patchPolicyStatus } from '../domain/kube/policy-status.ts';
import { searchAttributes } from '../domain/search-attributes.ts';
import { policyLabel, type PolicyRef } from '../domain/run.ts';

type StatusCondition = NonNullable<PolicyStatus['conditions']>[number];

export async function activeRemediations(
  client: Client,
  cluster: string,
  policy: PolicyRef,
): Promise<NonNullable<PolicyStatus['activeRemediations']>> {
  const query =
    `${searchAttributes.cluster.name} = "${cluster}" AND ${searchAttributes.policy.name} = "${policyLabel(policy)}" ` +
    `AND ExecutionStatus = "Running"`;
  const active: NonNullable<PolicyStatus['activeRemediations']> = [];
  for await (const run of client.workflow.list({ query })) {
    const attributes = run.typedSearchAttributes;
    const kind = attributes.get(searchAttributes.targetKind) ?? '';
    const namespace = attributes.get(searchAttributes.namespace);
    const name = attributes.get(searchAttributes.targetName) ?? '';
    active.push({
      workflowId: run.workflowId,
      target: `${kind}/${namespace ? `${namespace}/` : ''}${name}`,
      phase: attributes.get(searchAttributes.phase) ?? 'Unknown',
    });
  }
  return active;
}

export interface Evaluation {
  ready: { status: 'True' | 'False'; reason: string; message: string };
  invalid?: string;
  matchedTargets?: number;
  activeRemediations?: PolicyStatus['activeRemediations'];
  evaluatedAt: Date;
}

export async function writeStatus(
  kubeconfig: KubeConfig,
  policy: PolicyRef,
  previous: PolicyStatus | undefined,
  evaluation: Evaluation,
): Promise<void> {
  const now = evaluation.evaluatedAt.toISOString();
  const condition = (
    type: string,
    status: StatusCondition['status'],
    reason: string,
    message: string,
  ): StatusCondition => {
    const before = previous?.conditions?.find((c) => c.type === type);
    const unchanged = before?.status === status && before.reason === reason;
    return {
      type,
      status,
      reason,
      message,
      lastTransitionTime: unchanged ? before.lastTransitionTime : now,
      observedGeneration: policy.generation,
    };
  };
  const conditions = [
    condition('Ready', evaluation.ready.status, evaluation.ready.reason, evaluation.ready.message),
  ];
  if (evaluation.invalid !== undefined)
    conditions.push(condition('Invalid', 'True', 'InvalidSpec', evaluation.invalid));
  const status: PolicyStatus = {
    conditions,
    observedGeneration: policy.generation,
    lastEvaluationTime: now,
    matchedTargets: evaluation.matchedTargets,
    activeRemediations: evaluation.activeRemediations,
  };
  // lastOutcome, written by the workflow, is left as it is.
  await patchPolicyStatus(kubeconfig, policy, {
    ...status,
    activeRemediations: status.activeRemediations ?? [],
  });
}

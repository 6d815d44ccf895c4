/**
 * Writes what a remediation ended with where a person looks: the policy's status.lastOutcome
 * and Kubernetes Events on the policy and on the target.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { apiVersion, type PolicyStatus } from '../../api/policy.ts';
import type { Outcome, PolicyRef, TargetRef } from '../run.ts';
import type { FieldChange } from '../actions.ts';
import { recordEvent } from './events.ts';
import { targetObjectRef } from './objects.ts';
import { failedWith } from './errors.ts';
import { kubeRequest, objectPath } from './request.ts';

const warningOutcomes: Outcome[] = ['Failed', 'RolledBack', 'Rejected', 'Skipped', 'NeedsAttention'];

export const policyObjectRef = (policy: Pick<PolicyRef, 'kind' | 'namespace' | 'name'>) => ({
  apiVersion,
  kind: policy.kind,
  namespace: policy.namespace,
  name: policy.name,
});

/**
 * A merge patch of the policy's status subresource: the fields given are replaced (lists whole),
 * the others kept, so the watcher's fields and the workflow's lastOutcome do not overwrite
 * each other. A null removes a field.
 */
export async function patchPolicyStatus(
  kubeconfig: KubeConfig,
  policy: Pick<PolicyRef, 'kind' | 'namespace' | 'name'>,
  status: Partial<Record<keyof PolicyStatus, unknown>>,
): Promise<void> {
  await kubeRequest(kubeconfig, {
    method: 'PATCH',
    path: `${objectPath(policyObjectRef(policy))}/status`,
    body: { status },
    contentType: 'application/merge-patch+json',
  });
}

export async function recordPolicyOutcome(
  kubeconfig: KubeConfig,
  input: {
    policy: PolicyRef;
    target: TargetRef;
    workflowId: string;
    outcome: Outcome;
    reason: string;
    changes?: FieldChange[];
  },
  summary: string,
  /** Makes the outcome's Events idempotent (see recordRunEvents). */
  eventKey?: string,
): Promise<void> {
  const target = `${input.target.kind}/${input.target.namespace ? `${input.target.namespace}/` : ''}${input.target.name}`;
  const lastOutcome = {
    workflowId: input.workflowId,
    target,
    outcome: input.outcome,
    reason: input.reason,
    finishedAt: new Date().toISOString(),
    // null removes the changes of an earlier dry run (this is a merge patch).
    changes:
      input.changes?.map((c) => ({
        path: c.path,
        before: JSON.stringify(c.before),
        after: JSON.stringify(c.after),
      })) ?? null,
  };
  // A policy deleted while its run went on took its status with it: the outcome is still
  // recorded, in the Events below, the history and the metric.
  const policyGone = await patchPolicyStatus(kubeconfig, input.policy, { lastOutcome }).then(
    () => false,
    (error: unknown) => {
      if (failedWith(error, 404)) return true;
      throw error;
    },
  );
  const type = warningOutcomes.includes(input.outcome) ? 'Warning' : 'Normal';
  const message = `${summary}: ${input.reason} (workflow ${input.workflowId})${policyGone ? '; the policy was deleted during the run' : ''}`;
  await recordRunEvents(kubeconfig, input, type, `Remediation${input.outcome}`, message, eventKey);
}

/**
 * The same Event on the policy and on the target. `key` names the run and its step, so a
 * retried activity rewrites these two Events instead of adding two more.
 */
export async function recordRunEvents(
  kubeconfig: KubeConfig,
  about: { policy: PolicyRef; target: TargetRef },
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  key?: string,
): Promise<void> {
  await recordEvent(
    kubeconfig,
    { ...policyObjectRef(about.policy), uid: about.policy.uid },
    type,
    reason,
    message,
    key,
  );
  await recordEvent(kubeconfig, targetObjectRef(about.target), type, reason, message, key);
}

/**
 * What KubeMedic never touches and whose identity a namespaced policy acts as: shared by the
 * watcher (which marks a policy Invalid) and the activities (which refuse at the moment of
 * acting). Pure: no reads here; activities/safety.ts reads the labels.
 */
import type { PolicyRef } from './run.ts';
import { ActionError } from './actions.ts';

export const defaultProtectedNamespaces = ['kube-system', 'kube-public', 'kube-node-lease'];
export const protectedLabel = 'kubemedic.io/protected';

export const serviceAccountRequired =
  'spec.serviceAccountName is required: this KubeMedic requires every RemediationPolicy to act as a ServiceAccount of its namespace (requireServiceAccount)';

/** A namespaced policy that would act with KubeMedic's own rights where the operator forbids it. */
export function refuseWithoutServiceAccount(policy: PolicyRef, serviceAccountName: string | undefined): void {
  if (policy.kind === 'RemediationPolicy' && !serviceAccountName) {
    throw new ActionError(
      'Forbidden',
      `RemediationPolicy ${policy.namespace}/${policy.name}: ${serviceAccountRequired}`,
    );
  }
}

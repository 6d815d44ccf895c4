/**
 * Checks made before every backup and every execute, not only at admission: an object may be
 * labelled protected, or a run forged, after the policy was accepted.
 *
 * - Protected: the default namespaces (plus those the operator adds, such as the chart's own)
 *   and anything labelled kubemedic.io/protected=true, on the object or on its namespace.
 * - Tenancy: a namespaced RemediationPolicy acts only inside its own namespace, and, when the
 *   operator requires it (the chart's requireServiceAccount), only as a ServiceAccount it names.
 *
 * Reads use the worker's own identity, so a tenant cannot hide a label by lacking RBAC.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { PolicyRef, TargetRef } from '../domain/run.ts';
import { ActionError } from '../domain/actions.ts';
import { protectedLabel } from '../domain/protection.ts';
import { readTarget } from './actions/target.ts';
import { targetDisplay } from '../domain/run.ts';
import { targetObjectRef } from '../domain/kube/objects.ts';

const labelsOf = (object: unknown) =>
  ((object as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {}) as Record<
    string,
    string
  >;

export async function refuseUnsafeTarget(
  kubeconfig: KubeConfig,
  policy: PolicyRef,
  target: TargetRef,
  protectedNamespaces: readonly string[],
): Promise<void> {
  const what = targetDisplay(target);
  if (policy.kind === 'RemediationPolicy' && target.namespace !== policy.namespace) {
    throw new ActionError(
      'Forbidden',
      `RemediationPolicy ${policy.namespace}/${policy.name} may act only in namespace ${policy.namespace}, not on ${what}`,
    );
  }
  if (target.namespace !== undefined) {
    if (protectedNamespaces.includes(target.namespace)) {
      throw new ActionError('Protected', `${what} is in the protected namespace ${target.namespace}`);
    }
    const namespace = await kubeconfig.makeApiClient(CoreV1Api).readNamespace({ name: target.namespace });
    if (namespace.metadata?.labels?.[protectedLabel] === 'true') {
      throw new ActionError('Protected', `namespace ${target.namespace} is labelled ${protectedLabel}=true`);
    }
  }
  const object = await readTarget({ kubeconfig }, targetObjectRef(target));
  if (labelsOf(object)[protectedLabel] === 'true') {
    throw new ActionError('Protected', `${what} is labelled ${protectedLabel}=true`);
  }
}

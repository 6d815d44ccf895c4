/**
 * Checks made before every backup and every execute, not only at admission: an object may be
 * labelled protected, or a run forged, after the policy was accepted. The target is held to the
 * same rules as every object a run writes (actions/write-guard.ts, one function for both), and
 * must exist.
 *
 * - Protected: the default namespaces (plus those the operator adds, such as the chart's own)
 *   and anything labelled kubemedic.io/protected=true, on the object or on its namespace.
 * - Tenancy: a namespaced RemediationPolicy acts only inside its own namespace, and, when the
 *   operator requires it (the chart's requireServiceAccount), only as a ServiceAccount it names.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { TargetRef } from '../domain/run.ts';
import { readTarget } from './actions/target.ts';
import { targetObjectRef } from '../domain/kube/objects.ts';
import { guardWrite, type WriteScope } from './actions/write-guard.ts';

export async function refuseUnsafeTarget(
  kubeconfig: KubeConfig,
  scope: WriteScope,
  target: TargetRef,
): Promise<void> {
  const ref = targetObjectRef(target);
  await guardWrite({ ownKubeconfig: kubeconfig, scope }, ref);
  // The guard lets a missing object through (a create); a target must exist: TargetGone.
  await readTarget({ kubeconfig }, ref);
}

/**
 * The one guard every write and every restore of a run goes through, at the moment of the write:
 * the write helpers (workloads.ts applySpec/patchJson, fields.ts restoreFields, the HPA, Job,
 * cordon and eviction writes) call guardWrite themselves, so a new action cannot forget it.
 *
 * An object may be written for a run only when
 * - it is inside the policy's namespace, for a namespaced RemediationPolicy (a forged backup, an
 *   HPA name that tried to climb out of the namespace, a pod of another tenant on a drained node);
 * - it is not protected: not in a protected namespace (the defaults, the operator's, KubeMedic's
 *   own), and neither it nor its namespace labelled kubemedic.io/protected=true;
 * - it is what the action expects it to be (`owned`: the HPA scales the target, the Job is ours).
 *
 * Labels are read with KubeMedic's own identity, so a tenant cannot hide one by lacking RBAC.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { ActionError, type ObjectRef } from '../../domain/actions.ts';
import { defaultProtectedNamespaces, protectedLabel } from '../../domain/protection.ts';
import { failedWith } from '../../domain/kube/errors.ts';
import { kubeRequest, objectPath } from '../../domain/kube/request.ts';
import { targetDisplay, type PolicyRef } from '../../domain/run.ts';
import type { ActionContext } from './action.ts';

/** For whom a run writes, and what the operator protects. */
export interface WriteScope {
  policy: Pick<PolicyRef, 'kind' | 'namespace' | 'name'>;
  /** Every namespace never written: the defaults, the operator's list, KubeMedic's own. */
  protectedNamespaces: readonly string[];
  /** The policy's own ServiceAccount: the only one a Job it runs may name. */
  serviceAccountName?: string;
}

/**
 * A caller that names no scope (a test calling a module directly) writes as a cluster policy
 * would: the default protected namespaces and the labels still hold.
 */
const unscoped: WriteScope = {
  policy: { kind: 'ClusterRemediationPolicy', name: '(none)' },
  protectedNamespaces: defaultProtectedNamespaces,
};

type GuardContext = Pick<ActionContext, 'ownKubeconfig' | 'scope'>;
type Labelled = { metadata?: { labels?: Record<string, string> } };

export interface GuardOptions {
  /** Why the object as it is now is not the one the action means to write, or undefined. */
  owned?: (object: Record<string, unknown>) => string | undefined | Promise<string | undefined>;
}

/** Why the run must not write `ref` now, or undefined when it may. */
export async function writeRefusal(
  ctx: GuardContext,
  ref: ObjectRef,
  options: GuardOptions = {},
): Promise<ActionError | undefined> {
  const { policy, protectedNamespaces } = ctx.scope ?? unscoped;
  const what = targetDisplay(ref);
  if (policy.kind === 'RemediationPolicy' && ref.namespace !== policy.namespace) {
    return new ActionError(
      'Forbidden',
      `RemediationPolicy ${policy.namespace}/${policy.name} may act only in namespace ${policy.namespace}, not on ${what}`,
    );
  }
  if (ref.namespace !== undefined) {
    if (protectedNamespaces.includes(ref.namespace))
      return new ActionError('Protected', `${what} is in the protected namespace ${ref.namespace}`);
    const namespace = await ctx.ownKubeconfig.makeApiClient(CoreV1Api).readNamespace({ name: ref.namespace });
    if (namespace.metadata?.labels?.[protectedLabel] === 'true')
      return new ActionError('Protected', `namespace ${ref.namespace} is labelled ${protectedLabel}=true`);
  }
  let object: Record<string, unknown> & Labelled;
  try {
    object = await kubeRequest(ctx.ownKubeconfig, { method: 'GET', path: objectPath(ref) });
  } catch (error) {
    // Nothing there: a create goes ahead (a retried one finds its own object, which `owned`
    // checks), any other write fails on its own with a 404.
    if (failedWith(error, 404)) return undefined;
    throw error;
  }
  if (object.metadata?.labels?.[protectedLabel] === 'true')
    return new ActionError('Protected', `${what} is labelled ${protectedLabel}=true`);
  const notOurs = await options.owned?.(object);
  if (notOurs !== undefined) return new ActionError('Forbidden', `${what}: ${notOurs}; not writing it`);
  return undefined;
}

/** Throws the refusal when the run must not write `ref` now. */
export async function guardWrite(ctx: GuardContext, ref: ObjectRef, options?: GuardOptions): Promise<void> {
  const refusal = await writeRefusal(ctx, ref, options);
  if (refusal) throw refusal;
}

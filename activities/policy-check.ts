/**
 * The policy a run acts for, as the API server has it now. Anyone who can start a workflow on
 * the task queue writes its input, so the input's policy is only a claim: an activity that acts
 * for a policy reads it by kind, namespace and name with KubeMedic's own identity and holds the
 * run to its uid. Kind, namespace and ServiceAccount then come from the API server's object,
 * never from the input. Read once per activity attempt (remediation.ts `actingFor`), not per
 * API call.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { policyKinds } from '../api/policy.ts';
import { ActionError } from '../domain/actions.ts';
import { failedWith } from '../domain/kube/errors.ts';
import { policyObjectRef } from '../domain/kube/policy-status.ts';
import { kubeRequest, objectPath } from '../domain/kube/request.ts';
import { policyLabel, type PolicyRef } from '../domain/run.ts';

/** The run's policy as stored: its identity and the ServiceAccount its actions run as. */
export interface VerifiedPolicy extends PolicyRef {
  serviceAccountName?: string;
}

interface StoredPolicy {
  metadata?: { uid?: string; namespace?: string; generation?: number };
  spec?: { serviceAccountName?: string };
}

/** The claimed policy if the API server holds it with the run's uid; a refusal saying why if not. */
export async function verifiedPolicy(kubeconfig: KubeConfig, claimed: PolicyRef): Promise<VerifiedPolicy> {
  const shown = `${String(claimed.kind)} ${policyLabel(claimed)}`;
  const kind = Object.hasOwn(policyKinds, claimed.kind) ? policyKinds[claimed.kind] : undefined;
  if (kind === undefined)
    throw new ActionError(
      'PolicyMismatch',
      `the run claims a policy of kind ${shown}, which KubeMedic does not have`,
    );
  const namespaced = kind.scope === 'Namespaced';
  if (namespaced !== (claimed.namespace !== undefined)) {
    throw new ActionError(
      'PolicyMismatch',
      `the run claims ${shown}, but a ${claimed.kind} ${namespaced ? 'lives in a namespace' : 'has no namespace'}`,
    );
  }
  const stored = await kubeRequest<StoredPolicy>(kubeconfig, {
    method: 'GET',
    path: objectPath(policyObjectRef(claimed)),
  }).catch((error: unknown) => {
    if (failedWith(error, 404)) return undefined;
    throw error;
  });
  if (stored === undefined) {
    throw new ActionError(
      'PolicyGone',
      `${shown} is not on the API server (deleted, or never created: a run acts only for a policy that exists); nothing is done for it`,
    );
  }
  if (stored.metadata?.uid !== claimed.uid) {
    throw new ActionError(
      'PolicyMismatch',
      `${shown} has uid ${stored.metadata?.uid}, not the run's ${claimed.uid} (deleted and created again since the run started, or the run was forged); nothing is done for it`,
    );
  }
  return {
    kind: claimed.kind,
    namespace: stored.metadata.namespace,
    name: claimed.name,
    uid: stored.metadata.uid,
    generation: stored.metadata.generation ?? claimed.generation,
    serviceAccountName: stored.spec?.serviceAccountName,
  };
}

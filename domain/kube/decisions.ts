/**
 * Making a RemediationDecision or RemediationPause as the person at the keyboard: their username
 * as the API server authenticates it (a SelfSubjectReview, what `kubectl auth whoami` asks), put
 * in `spec.decidedBy`, which the admission policy then checks (api/admission-policy.ts). Shared
 * by the CLI and the tests, so both create them the one way.
 */
import { AuthenticationV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import {
  type DecisionStatus,
  decisionKinds,
  type PauseStatus,
  type RemediationDecisionSpec,
  type RemediationPauseSpec,
} from '../../api/decision.ts';
import { apiVersion, group, version } from '../../api/policy.ts';

/** Who the API server says this kubeconfig's user is. */
export async function whoAmI(kubeconfig: KubeConfig): Promise<string> {
  const review = await kubeconfig
    .makeApiClient(AuthenticationV1Api)
    .createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
  const username = review.status?.userInfo?.username;
  if (!username)
    throw new Error('the API server did not say who you are (SelfSubjectReview has no username)');
  return username;
}

export interface CreatedDecision {
  metadata: { name: string; namespace: string; uid: string };
  spec: RemediationDecisionSpec;
  status?: DecisionStatus;
}

export interface CreatedPause {
  metadata: { name: string; uid: string; finalizers?: string[] };
  spec: RemediationPauseSpec;
  status?: PauseStatus;
}

/** Creates a decision in `namespace` (a generated name) with `decidedBy` filled in unless given. */
export async function createDecision(
  kubeconfig: KubeConfig,
  namespace: string,
  spec: Omit<RemediationDecisionSpec, 'decidedBy'> & { decidedBy?: string },
): Promise<CreatedDecision> {
  const { kind, plural } = decisionKinds.RemediationDecision;
  const decidedBy = spec.decidedBy ?? (await whoAmI(kubeconfig));
  const body = {
    apiVersion,
    kind,
    metadata: { generateName: `${spec.decision}-`, namespace },
    spec: { ...spec, decidedBy },
  };
  return (await kubeconfig
    .makeApiClient(CustomObjectsApi)
    .createNamespacedCustomObject({ group, version, plural, namespace, body })) as CreatedDecision;
}

/** Creates a pause named `name` (a generated one for `{ generateName }`), `decidedBy` filled in unless given. */
export async function createPause(
  kubeconfig: KubeConfig,
  name: string | { generateName: string },
  spec: Omit<RemediationPauseSpec, 'decidedBy'> & { decidedBy?: string },
): Promise<CreatedPause> {
  const { kind, plural } = decisionKinds.RemediationPause;
  const decidedBy = spec.decidedBy ?? (await whoAmI(kubeconfig));
  const metadata = typeof name === 'string' ? { name } : name;
  const body = { apiVersion, kind, metadata, spec: { ...spec, decidedBy } };
  return (await kubeconfig
    .makeApiClient(CustomObjectsApi)
    .createClusterCustomObject({ group, version, plural, body })) as CreatedPause;
}

export async function readDecision(kubeconfig: KubeConfig, namespace: string, name: string) {
  const { plural } = decisionKinds.RemediationDecision;
  return (await kubeconfig
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ group, version, plural, namespace, name })) as CreatedDecision;
}

export async function readPause(kubeconfig: KubeConfig, name: string) {
  const { plural } = decisionKinds.RemediationPause;
  return (await kubeconfig
    .makeApiClient(CustomObjectsApi)
    .getClusterCustomObject({ group, version, plural, name })) as CreatedPause;
}

export async function deletePause(kubeconfig: KubeConfig, name: string): Promise<void> {
  const { plural } = decisionKinds.RemediationPause;
  await kubeconfig
    .makeApiClient(CustomObjectsApi)
    .deleteClusterCustomObject({ group, version, plural, name });
}

export async function listPauses(kubeconfig: KubeConfig): Promise<CreatedPause[]> {
  const { plural } = decisionKinds.RemediationPause;
  const list = (await kubeconfig
    .makeApiClient(CustomObjectsApi)
    .listClusterCustomObject({ group, version, plural })) as { items: CreatedPause[] };
  return list.items;
}

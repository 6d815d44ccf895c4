/**
 * The CLI's default way to decide and to pause: Kubernetes resources (docs/approvals.md). A
 * RemediationDecision is created in the run's namespace as the kubeconfig's user, who must have
 * RBAC to create it there; the API server vouches for the name (`decidedBy` comes from a
 * SelfSubjectReview and admission checks it), and the policy watcher relays it and answers in its
 * status, which this waits for. `--via-temporal` keeps the old path (Temporal messages, `--by` as
 * typed) for clusters without the CRDs.
 */
import type { DecisionVerb, DecisionStatus } from '../api/decision.ts';
import { createDecision, readDecision } from '../domain/kube/decisions.ts';
import { failedWith, kubeFailureOf } from '../domain/kube/errors.ts';
import { runOwner } from '../domain/run-owner.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { flag, type Options } from './command.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { type Context, kubeUnreachable } from './context.ts';
import { messageOf, refused, unreachable, usageError } from './errors.ts';
import { looksLikeObject } from './object-names.ts';
import { findRun } from './runs.ts';

export const viaTemporalOption = {
  'via-temporal': { type: 'boolean' },
  'decision-namespace': { type: 'string' },
  by: { type: 'string' },
} as const satisfies Options;

export const viaTemporalHelp = [
  "By default a RemediationDecision is created in the run's namespace as your Kubernetes user",
  '(RBAC decides who may; the run records the name the API server gives), and the command',
  'waits for the policy watcher to relay it.',
  "  --decision-namespace NS  where to create it (needed for a ClusterRemediationPolicy's run:",
  '                           the namespace KubeMedic is installed in)',
  '  --via-temporal           send it to Temporal directly (clusters without the CRDs); the',
  '                           run records it as unauthenticated',
  '  --by NAME                with --via-temporal only: who decides (default: $USER)',
].join('\n');

/** How long the watcher has to answer a decision before the command gives up (exit 5). */
const relayTimeoutMs = 30_000;

export const viaTemporal = (values: Record<string, unknown>): boolean => {
  if (values['via-temporal'] === true) return true;
  if (flag(values, 'by') !== undefined) {
    throw usageError(
      '--by goes with --via-temporal only: a RemediationDecision records who you are as the API server says',
    );
  }
  return false;
};

/** The run's workflow ID without asking Temporal when given as one; by object, its latest run's. */
export async function workflowIdOf(
  context: Context,
  name: string | undefined,
  values: Record<string, unknown>,
): Promise<string> {
  if (name !== undefined && !looksLikeObject(name)) return name;
  return (await findRun(context, name, values)).description.workflowId;
}

/** Creates the decision for `workflowId` and waits for the watcher's answer; a refusal is exit 4. */
export async function decideByResource(
  context: Context,
  workflowId: string,
  decision: DecisionVerb,
  values: Record<string, unknown>,
): Promise<DecisionStatus & { name: string; namespace: string; decidedBy: string }> {
  const owner = runOwner(workflowId);
  if (!owner) throw usageError(`${workflowId} is not a KubeMedic run's workflow ID`);
  const namespace = flag(values, 'decision-namespace') ?? (owner.clusterPolicy ? undefined : owner.namespace);
  if (namespace === undefined) {
    throw usageError(
      "a ClusterRemediationPolicy's run is decided from the namespace KubeMedic is installed in: " +
        'give it with --decision-namespace NS',
    );
  }
  const kubeconfig = await context.kubeconfig();
  let created;
  try {
    created = await createDecision(kubeconfig, namespace, {
      workflowId,
      cluster: owner.cluster,
      decision,
      reason: flag(values, 'reason'),
    });
  } catch (error) {
    throw decisionRefused(kubeconfig, error, namespace);
  }
  const { name } = created.metadata;
  const deadline = Date.now() + relayTimeoutMs;
  for (;;) {
    const status = (
      await readDecision(kubeconfig, namespace, name).catch((error: unknown) => {
        throw kubeUnreachable(kubeconfig, error);
      })
    ).status;
    if (status?.phase === 'Refused')
      throw refused(`RemediationDecision ${namespace}/${name}: ${status.reason}`);
    if (status?.phase === 'Relayed') return { ...status, name, namespace, decidedBy: created.spec.decidedBy };
    if (Date.now() > deadline) {
      throw unreachable(
        `RemediationDecision ${namespace}/${name} was created but no policy watcher answered within ` +
          `${relayTimeoutMs / 1000}s: is the KubeMedic watcher running? (\`kubectl get rdec -n ${namespace} ${name}\` shows its answer when it comes)`,
      );
    }
    await sleep(500);
  }
}

/** The API server's refusal in words that name the fix: RBAC, admission, or no CRD. */
export function decisionRefused(kubeconfig: KubeConfig, error: unknown, namespace: string): Error {
  const failure = kubeFailureOf(error);
  if (failedWith(error, 403)) {
    return refused(
      `the API server refused (${failure?.message ?? messageOf(error)}): you need RBAC to create ` +
        `remediationdecisions in ${namespace} (the chart's <release>-decider ClusterRole, bound there)`,
    );
  }
  if (failedWith(error, 404)) {
    return unreachable(
      "this cluster has no RemediationDecision CRD (install the chart's CRDs), or use --via-temporal",
    );
  }
  if (failure) return refused(`the API server refused: ${failure.message}`);
  return kubeUnreachable(kubeconfig, error);
}

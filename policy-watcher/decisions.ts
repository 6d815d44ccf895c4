/**
 * The decision relay: every RemediationDecision the API server admitted (so its `decidedBy` is its
 * creator, api/admission-policy.ts) is relayed to its run by update — approve, reject or cancel —
 * and what the run answered goes into the decision's status and an Event on it.
 *
 * At most once per decision, with any number of watcher replicas and restarts: the update's ID
 * is the decision's uid, so Temporal runs it once and gives every sender the same answer, and a
 * decision that already has a status is not sent again.
 *
 * Who may decide what: a decision decides only runs of its own namespace's RemediationPolicies
 * (the run's ID names the namespace and the policy, domain/run.ts remediationWorkflowId); a
 * ClusterRemediationPolicy's runs only from `clusterDecisionsNamespace` (the chart: its release
 * namespace). A decision naming a run of another KubeMedic cluster (by its workflow ID, or by
 * `spec.cluster`) is left to that cluster's watchers (they may share an API server, as on the
 * local stack).
 */
import {
  CustomObjectsApi,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  type DecisionStatus,
  decisionKinds,
  type RemediationDecisionSpec,
  remediationDecisionSpec,
} from '../api/decision.ts';
import { apiVersion, group, version } from '../api/policy.ts';
import { failedWith } from '../domain/kube/errors.ts';
import { recordEvent } from '../domain/kube/events.ts';
import { approveUpdate, cancelUpdate, rejectUpdate } from '../domain/messages.ts';
import { remediationWorkflowId } from '../domain/run.ts';
import { type RunOwner, runOwner } from '../domain/run-owner.ts';
import { type RelayOptions, ResourceRelay } from './resource-informer.ts';

export interface DecisionRelayOptions extends RelayOptions {
  /** Decisions in this namespace may decide runs of ClusterRemediationPolicies; none when absent. */
  clusterDecisionsNamespace?: string;
}

interface DecisionObject extends KubernetesObject {
  spec: unknown;
  status?: Partial<DecisionStatus>;
}

const { plural, kind } = decisionKinds.RemediationDecision;

/** Why a decision in `namespace` may not decide that run, or undefined when it may. */
export function refusalFor(
  namespace: string,
  owner: RunOwner,
  clusterDecisionsNamespace: string | undefined,
): string | undefined {
  if (owner.clusterPolicy) {
    if (namespace === clusterDecisionsNamespace) return undefined;
    return clusterDecisionsNamespace
      ? `runs of a ClusterRemediationPolicy are decided from namespace ${clusterDecisionsNamespace} only`
      : 'runs of a ClusterRemediationPolicy cannot be decided by a RemediationDecision: no namespace is set for them (KUBEMEDIC_CLUSTER_DECISIONS_NAMESPACE)';
  }
  if (owner.namespace === namespace) return undefined;
  return `a decision in namespace ${namespace} cannot decide a run of namespace ${owner.namespace}`;
}

export class DecisionRelay extends ResourceRelay<DecisionObject> {
  constructor(private readonly options: DecisionRelayOptions) {
    super(options.kubeconfig, plural, options.log);
  }

  protected async relay(decision: DecisionObject): Promise<void> {
    const { uid = '', namespace = '', name = '' } = decision.metadata ?? {};
    if (decision.status?.phase !== undefined) return; // answered already
    try {
      const parsed = remediationDecisionSpec.safeParse(decision.spec);
      if (!parsed.success) {
        await this.answer(decision, { phase: 'Refused', reason: `invalid spec: ${parsed.error.message}` });
        return;
      }
      const spec = parsed.data;
      if ((spec.cluster ?? this.options.cluster) !== this.options.cluster) return; // another cluster's
      const workflowId = runOf(spec, namespace, this.options.cluster);
      const owner = runOwner(workflowId);
      if (!owner) {
        await this.answer(decision, {
          phase: 'Refused',
          workflowId,
          reason:
            'not a KubeMedic run: a run is named remediation/<cluster>/<namespace>/<kind>/<name>/<policy>',
        });
        return;
      }
      if (owner.cluster !== this.options.cluster) return; // that cluster's watchers answer it
      const refusal = refusalFor(namespace, owner, this.options.clusterDecisionsNamespace);
      if (refusal) {
        await this.answer(decision, { phase: 'Refused', workflowId, reason: refusal });
        return;
      }
      const answer = await this.send(spec, workflowId, uid, `${kind} ${namespace}/${name}`);
      await this.answer(decision, { workflowId, ...answer });
    } catch (error) {
      if (failedWith(error, 404)) return; // the decision (or its namespace) is gone: nothing to answer
      // Temporal or the API server did not answer: the same update ID makes the retry safe.
      this.log('a decision could not be relayed yet; trying again', {
        decision: `${namespace}/${name}`,
        error: String(error),
      });
      this.retryLater(() => this.relayOnce(decision), this.options.retryMs ?? 5_000);
    }
  }

  /** The update, and what it answered; a refusal by the run is an answer too. */
  private async send(
    spec: RemediationDecisionSpec,
    workflowId: string,
    updateId: string,
    channel: string,
  ): Promise<Pick<DecisionStatus, 'phase' | 'reason' | 'answer'>> {
    const handle = this.options.client.workflow.getHandle(workflowId);
    const message = { by: spec.decidedBy, reason: spec.reason, channel };
    try {
      if (spec.decision === 'cancel') {
        const answer = await handle.executeUpdate(cancelUpdate, { args: [message], updateId });
        const text = `cancelled by ${answer.by} in phase ${answer.phase}`;
        return { phase: 'Relayed', reason: 'the run took the cancel', answer: text };
      }
      const update = spec.decision === 'approve' ? approveUpdate : rejectUpdate;
      const answer = await handle.executeUpdate(update, { args: [message], updateId });
      const text = `${answer.decision} by ${answer.by} via ${answer.channel ?? answer.via}`;
      return { phase: 'Relayed', reason: `the run took the decision`, answer: text };
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        return { phase: 'Refused', reason: `the run refused: ${messageOf(error.cause ?? error)}` };
      }
      if (error instanceof WorkflowNotFoundError) {
        return { phase: 'Refused', reason: `no run ${workflowId} is running (see kubemedic list)` };
      }
      throw error;
    }
  }

  /** The status (merge patch of the subresource) and an Event on the decision, both once per uid. */
  private async answer(decision: DecisionObject, outcome: Omit<DecisionStatus, 'time'>): Promise<void> {
    const { uid, namespace = '', name = '' } = decision.metadata ?? {};
    const status: DecisionStatus = { ...outcome, time: new Date().toISOString() };
    await this.options.kubeconfig
      .makeApiClient(CustomObjectsApi)
      .patchNamespacedCustomObjectStatus(
        { group, version, plural, namespace, name, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    const relayed = status.phase === 'Relayed';
    await recordEvent(
      this.options.kubeconfig,
      { apiVersion, kind, namespace, name, uid },
      relayed ? 'Normal' : 'Warning',
      relayed ? 'DecisionRelayed' : 'DecisionRefused',
      `${status.workflowId ?? 'the run'}: ${status.answer ?? status.reason}`,
      `decision/${uid}`,
    );
    this.log(relayed ? 'decision relayed' : 'decision refused', {
      decision: `${namespace}/${name}`,
      ...status,
    });
  }
}

/** The run a decision names: its workflow ID, or its namespaced policy's run for the target. */
function runOf(spec: RemediationDecisionSpec, namespace: string, cluster: string): string {
  if (spec.workflowId !== undefined) return spec.workflowId;
  const { policy = '', target } = spec;
  return remediationWorkflowId(
    cluster,
    { kind: target?.kind ?? 'Deployment', namespace, name: target?.name ?? '' },
    { kind: 'RemediationPolicy', namespace, name: policy },
  );
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

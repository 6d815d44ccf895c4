/**
 * The pause relay: while a RemediationPause exists, the governor it names (the cluster's, or one
 * policy's) is paused; deleting it resumes. The pause is a resource so GitOps and `kubectl get
 * remediationpauses` see it, and its creator is the API server's word (api/admission-policy.ts).
 *
 * A finalizer holds the resource until the watcher has sent the resume, so a pause deleted while
 * no watcher runs still resumes once one does. The governor's pause and resume signals are
 * idempotent, so several replicas may each send them. With several pauses on one governor, the
 * last one deleted resumes it.
 */
import {
  CustomObjectsApi,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { decisionKinds, type PauseStatus, remediationPauseSpec } from '../api/decision.ts';
import { apiVersion, group, version } from '../api/policy.ts';
import { taskQueueFor } from '../domain/config/names.ts';
import { globalGovernorId, pauseSignal, policyGovernorId, resumeSignal } from '../domain/governor.ts';
import { recordEvent } from '../domain/kube/events.ts';
import { failedWith } from '../domain/kube/errors.ts';
import { type RelayOptions, ResourceRelay } from './resource-informer.ts';

export const resumeFinalizer = `${group}/resume`;

export type PauseRelayOptions = RelayOptions;

interface PauseObject extends KubernetesObject {
  spec: unknown;
  status?: Partial<PauseStatus>;
}

const { plural, kind } = decisionKinds.RemediationPause;

export class PauseRelay extends ResourceRelay<PauseObject> {
  /** The governor each live pause holds, by uid: a governor resumes when none is left. */
  private readonly live = new Map<string, string>();

  constructor(private readonly options: PauseRelayOptions) {
    super(options.kubeconfig, plural, options.log);
  }

  protected async relay(pause: PauseObject): Promise<void> {
    const { uid = '', name = '' } = pause.metadata ?? {};
    const parsed = remediationPauseSpec.safeParse(pause.spec);
    if (!parsed.success || (parsed.data.cluster ?? this.options.cluster) !== this.options.cluster) return;
    const spec = parsed.data;
    const governor = spec.policy
      ? policyGovernorId(this.options.cluster, spec.policy)
      : globalGovernorId(this.options.cluster);
    try {
      if (pause.metadata?.deletionTimestamp !== undefined) {
        this.live.delete(uid);
        if (!pause.metadata.finalizers?.includes(resumeFinalizer)) return;
        const stillPaused = [...this.live.values()].includes(governor);
        if (!stillPaused) {
          await this.signal(governor, resumeSignal, { by: `deletion of ${kind} ${name}` });
        }
        await this.setFinalizer(pause, false);
        this.log(stillPaused ? 'pause deleted; another pause holds the governor' : 'pause deleted; resumed', {
          pause: name,
          governor,
        });
        return;
      }
      this.live.set(uid, governor);
      if (pause.status?.phase === 'Paused') return;
      if (!pause.metadata?.finalizers?.includes(resumeFinalizer)) await this.setFinalizer(pause, true);
      const reason = `${kind} ${name}${spec.reason ? `: ${spec.reason}` : ''}`;
      await this.signal(governor, pauseSignal, { by: spec.decidedBy, reason });
      const status: PauseStatus = {
        phase: 'Paused',
        reason: `new runs are refused a permit until ${kind} ${name} is deleted`,
        governor,
        time: new Date().toISOString(),
      };
      await this.options.kubeconfig
        .makeApiClient(CustomObjectsApi)
        .patchClusterCustomObjectStatus(
          { group, version, plural, name, body: { status } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      await recordEvent(
        this.options.kubeconfig,
        { apiVersion, kind, name, uid },
        'Normal',
        'Paused',
        `${governor} paused by ${spec.decidedBy}: ${reason}`,
        `pause/${uid}`,
      );
      this.log('paused', { pause: name, governor, by: spec.decidedBy });
    } catch (error) {
      // A conflict (another replica wrote first) or an unreachable server: look again shortly.
      this.log('a pause could not be relayed yet; trying again', { pause: name, error: String(error) });
      this.retryLater(() => this.relayLatest(name), this.options.retryMs ?? 2_000);
    }
  }

  /** Retries act on the object as it is now, not on the copy the failed attempt saw. */
  private async relayLatest(name: string): Promise<void> {
    const api = this.options.kubeconfig.makeApiClient(CustomObjectsApi);
    try {
      await this.relayOnce(
        (await api.getClusterCustomObject({ group, version, plural, name })) as PauseObject,
      );
    } catch (error) {
      if (!failedWith(error, 404))
        this.log('a pause could not be read', { pause: name, error: String(error) });
    }
  }

  /** signalWithStart: a governor starts with the first run of its scope, or here when none ran yet. */
  private async signal(
    governor: string,
    signal: typeof pauseSignal | typeof resumeSignal,
    args: { by: string; reason?: string },
  ): Promise<void> {
    await this.options.client.workflow.signalWithStart('governor', {
      workflowId: governor,
      taskQueue: taskQueueFor(this.options.cluster),
      args: [],
      signal,
      signalArgs: [args],
      staticSummary: `KubeMedic safety governor ${governor}`,
    });
  }

  /** Adds or removes the finalizer; resourceVersion makes a concurrent change a 409, retried. */
  private async setFinalizer(pause: PauseObject, present: boolean): Promise<void> {
    const others = (pause.metadata?.finalizers ?? []).filter((f) => f !== resumeFinalizer);
    const finalizers = present ? [...others, resumeFinalizer] : others;
    await this.options.kubeconfig.makeApiClient(CustomObjectsApi).patchClusterCustomObject(
      {
        group,
        version,
        plural,
        name: pause.metadata?.name ?? '',
        body: { metadata: { finalizers, resourceVersion: pause.metadata?.resourceVersion } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}

/**
 * Evidence before destruction: RestartPod and DrainNode back up, besides what they will write,
 * what the pods they will remove say about themselves (domain/evidence.ts). Read as the policy's
 * identity (ctx.kubeconfig), so a tenant sees only what its own RBAC could read anyway.
 *
 * Capturing never fails the backup: a log or an Event list that cannot be read (no kubelet
 * behind the node, as on KWOK's fake nodes; no `pods/log` right; a timeout) is kept as
 * `logs unavailable: <reason>`, and the action goes on.
 */
import { CoreV1Api, type CoreV1Event, type V1ContainerState, type V1Pod } from '@kubernetes/client-node';
import { kubeFailureOf } from '../../domain/kube/errors.ts';
import {
  type ContainerEvidence,
  type EventEvidence,
  type Evidence,
  evidenceBounds,
  type PodEvidence,
} from '../../domain/evidence.ts';
import type { ActionContext } from './action.ts';

/** A kubelet that does not answer must not hold the backup up: the API server waits much longer. */
const readTimeoutMs = 5_000;

const clip = (text: string | undefined, limit: number = evidenceBounds.message) =>
  text === undefined || text.length <= limit ? (text ?? '') : `${text.slice(0, limit - 1)}…`;

/** Why a read failed, in a few words: the API server's message, else the error's. */
const why = (error: unknown) =>
  clip(kubeFailureOf(error)?.message ?? (error instanceof Error ? error.message : String(error)));

function withTimeout<T>(read: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer for ${what} within ${readTimeoutMs / 1000}s`)),
      readTimeoutMs,
    );
  });
  return Promise.race([read, timeout]).finally(() => clearTimeout(timer));
}

function describeState(state: V1ContainerState | undefined): string {
  if (state?.running) return 'running';
  if (state?.waiting)
    return `waiting: ${state.waiting.reason ?? '?'}${state.waiting.message ? ` (${clip(state.waiting.message, 120)})` : ''}`;
  if (state?.terminated) {
    const t = state.terminated;
    return `terminated: ${t.reason ?? '?'} (exit ${t.exitCode}${t.signal ? `, signal ${t.signal}` : ''})`;
  }
  return 'unknown';
}

async function containerEvidence(ctx: ActionContext, pod: V1Pod, name: string): Promise<ContainerEvidence> {
  const status = pod.status?.containerStatuses?.find((c) => c.name === name);
  // A container that restarted (a crash loop) says why in its previous instance's log.
  const logOf = status?.lastState?.terminated ? 'previous' : 'current';
  const evidence: ContainerEvidence = {
    name,
    ready: status?.ready ?? false,
    restartCount: status?.restartCount ?? 0,
    state: describeState(status?.state),
    ...(status?.lastState?.terminated ? { lastState: describeState(status.lastState) } : {}),
    logOf,
  };
  try {
    const log = await withTimeout(
      ctx.kubeconfig.makeApiClient(CoreV1Api).readNamespacedPodLog({
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? '',
        container: name,
        tailLines: evidenceBounds.logLines,
        limitBytes: evidenceBounds.logBytes,
        previous: logOf === 'previous',
      }),
      `the log of container ${name}`,
    );
    return { ...evidence, log: clip(log, evidenceBounds.logBytes) };
  } catch (error) {
    return { ...evidence, logUnavailable: `logs unavailable: ${why(error)}` };
  }
}

const seenAt = (event: CoreV1Event) =>
  new Date(
    event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp ?? 0,
  ).toISOString();

async function eventsOf(
  ctx: ActionContext,
  pod: V1Pod,
): Promise<Pick<PodEvidence, 'events' | 'eventsUnavailable'>> {
  try {
    const list = await withTimeout(
      ctx.kubeconfig.makeApiClient(CoreV1Api).listNamespacedEvent({
        namespace: pod.metadata?.namespace ?? '',
        fieldSelector: `involvedObject.uid=${pod.metadata?.uid ?? ''}`,
      }),
      'the Events',
    );
    const events: EventEvidence[] = list.items
      .map((e) => ({
        type: e.type ?? 'Normal',
        reason: e.reason ?? '',
        message: clip(e.message),
        count: e.count ?? 1,
        lastSeen: seenAt(e),
      }))
      .sort((a, b) => b.lastSeen.localeCompare(a.lastSeen))
      .slice(0, evidenceBounds.events);
    return { events };
  } catch (error) {
    return { events: [], eventsUnavailable: `events unavailable: ${why(error)}` };
  }
}

async function podEvidence(ctx: ActionContext, pod: V1Pod): Promise<PodEvidence> {
  const [containers, events] = await Promise.all([
    Promise.all((pod.spec?.containers ?? []).map((c) => containerEvidence(ctx, pod, c.name))),
    eventsOf(ctx, pod),
  ]);
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
    conditions: (pod.status?.conditions ?? [])
      .filter((c) => c.status !== 'True')
      .map((c) =>
        clip(`${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`),
      ),
    containers,
    ...events,
  };
}

/**
 * Keeps the evidence under `evidenceBounds.totalBytes`: logs are dropped from the last pod and
 * container backwards (the first pod is the one a RestartPod removes, the most restarted).
 */
export function boundedEvidence(evidence: Evidence): Evidence {
  const size = () => Buffer.byteLength(JSON.stringify(evidence));
  for (const pod of [...evidence.pods].reverse()) {
    for (const container of [...pod.containers].reverse()) {
      if (size() <= evidenceBounds.totalBytes) return evidence;
      if (container.log === undefined) continue;
      delete container.log;
      container.logUnavailable = `logs unavailable: dropped to keep the evidence under ${evidenceBounds.totalBytes / 1024} KiB`;
    }
  }
  return evidence;
}

/** The evidence of `pods` (at most evidenceBounds.pods described), as they are now. */
export async function captureEvidence(ctx: ActionContext, pods: V1Pod[]): Promise<Evidence> {
  const described = pods.slice(0, evidenceBounds.pods);
  return boundedEvidence({
    capturedAt: new Date().toISOString(),
    pods: await Promise.all(described.map((pod) => podEvidence(ctx, pod))),
    omittedPods: pods.length - described.length,
    bounds: evidenceBounds,
  });
}

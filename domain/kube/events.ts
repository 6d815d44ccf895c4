/**
 * Kubernetes Events, so `kubectl describe` on a policy or a target says what KubeMedic did and
 * why. Events of cluster-scoped objects go to the default namespace, as kubectl expects.
 *
 * An Event written by an activity gets a name derived from the run and the step (`key`), so a
 * retried activity updates the Event it wrote before instead of adding a second one.
 */
import { CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createHash, randomBytes } from 'node:crypto';
import { failedWith } from './errors.ts';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

/** `<object name>.<16 hex>`: the hash of the key and the object, so each object gets its own. */
export function eventName(involved: InvolvedObject, key: string): string {
  const hash = createHash('sha256')
    .update(`${key}\n${involved.kind}/${involved.namespace ?? ''}/${involved.name}`)
    .digest('hex')
    .slice(0, 16);
  // Object names may be 253 characters long; so may an Event's, suffix included.
  return `${involved.name.slice(0, 236)}.${hash}`;
}

export async function recordEvent(
  kubeconfig: KubeConfig,
  involved: InvolvedObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  /** Makes the write idempotent: the same key writes the same Event. Random when absent. */
  key?: string,
): Promise<void> {
  const namespace = involved.namespace ?? 'default';
  const name =
    key === undefined ? `${involved.name}.${randomBytes(8).toString('hex')}` : eventName(involved, key);
  const now = new Date();
  // The API server refuses Event messages over 1 KiB.
  const text = message.length > 1024 ? `${message.slice(0, 1021)}...` : message;
  const api = kubeconfig.makeApiClient(CoreV1Api);
  try {
    await api.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name, namespace },
        involvedObject: { ...involved },
        type,
        reason,
        message: text,
        source: { component: 'kubemedic' },
        reportingComponent: 'kubemedic',
        reportingInstance: 'kubemedic',
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  } catch (error) {
    if (key === undefined || !failedWith(error, 409)) throw error;
    // A retry of the same step: the Event is there already; bring it up to date, still once.
    await api.patchNamespacedEvent(
      { name, namespace, body: { type, reason, message: text, lastTimestamp: now } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}

/**
 * Kubernetes Events, so `kubectl describe` on a policy or a target says what KubeMedic did and
 * why. Events of cluster-scoped objects go to the default namespace, as kubectl expects.
 *
 * `kubectl describe` lists an object's Events by its uid as well as its kind, name and namespace,
 * and `kubectl events --for` by its apiVersion, kind and name: an Event without the uid is
 * invisible to the first. Callers that know the uid (a policy's) pass it; for a target, whose
 * reference carries no uid, it is read from the API server at the write.
 *
 * An Event written by an activity gets a name derived from the run and the step (`key`), so a
 * retried activity updates the Event it wrote before instead of adding a second one.
 */
import { CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createHash, randomBytes } from 'node:crypto';
import { failedWith } from './errors.ts';
import { kubeRequest, objectPath } from './request.ts';

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
  const uid = involved.uid ?? (await uidOf(kubeconfig, involved));
  try {
    await api.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name, namespace },
        involvedObject: { ...involved, ...(uid === undefined ? {} : { uid }) },
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

/**
 * The object's uid, or undefined when it no longer exists: an Event about a deleted target is
 * still written (the policy's Events and the history tell the same story), only describe cannot
 * show it. Any other failure is thrown, so the caller's retry writes the Event with its uid.
 */
async function uidOf(kubeconfig: KubeConfig, involved: InvolvedObject): Promise<string | undefined> {
  try {
    const object = await kubeRequest<{ metadata?: { uid?: string } }>(kubeconfig, {
      method: 'GET',
      path: objectPath(involved),
    });
    return object.metadata?.uid;
  } catch (error) {
    if (failedWith(error, 404)) return undefined;
    throw error;
  }
}

/**
 * Kubernetes Events, so `kubectl describe` on a policy or a target says what KubeMedic did and
 * why. Events of cluster-scoped objects go to the default namespace, as kubectl expects.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

export async function recordEvent(
  kubeconfig: KubeConfig,
  involved: InvolvedObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
): Promise<void> {
  const namespace = involved.namespace ?? 'default';
  const now = new Date();
  await kubeconfig.makeApiClient(CoreV1Api).createNamespacedEvent({
    namespace,
    body: {
      metadata: { name: `${involved.name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: { ...involved },
      type,
      reason,
      // The API server refuses Event messages over 1 KiB.
      message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
      source: { component: 'kubemedic' },
      reportingComponent: 'kubemedic',
      reportingInstance: 'kubemedic',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    },
  });
}

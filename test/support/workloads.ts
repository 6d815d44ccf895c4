/** Small builders for the workloads end-to-end tests remediate. */
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  type V1Deployment,
  type V1PodSpec,
} from '@kubernetes/client-node';
import type { ActionContext } from '../../activities/actions/action.ts';
import { eventually, kubeconfig } from './stack.ts';

/** How an action module is called in tests: the admin kubeconfig, heartbeats recorded in `heartbeats`. */
export function actionContext(dryRun = false, heartbeats: unknown[] = []): ActionContext {
  return {
    kubeconfig: kubeconfig(),
    ownKubeconfig: kubeconfig(),
    dryRun,
    heartbeat: (details) => heartbeats.push(details),
  };
}

const defaultPodSpec: V1PodSpec = {
  containers: [
    { name: 'app', image: 'example.com/app:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } },
  ],
};

/** A Deployment whose Pods carry `app: <name>`; `podSpec` replaces parts of the default Pod spec. */
export async function createDeployment(
  namespace: string,
  name: string,
  replicas: number,
  podSpec: Partial<V1PodSpec> = {},
): Promise<V1Deployment> {
  const labels = { app: name };
  return kubeconfig()
    .makeApiClient(AppsV1Api)
    .createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name, labels },
        spec: {
          replicas,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { ...defaultPodSpec, ...podSpec } },
        },
      },
    });
}

/** An HPA named `name` scaling the Deployment `deployment` between the bounds, on CPU at 80%. */
export const createHpa = (
  namespace: string,
  name: string,
  deployment: string,
  minReplicas: number,
  maxReplicas: number,
) =>
  kubeconfig()
    .makeApiClient(AutoscalingV2Api)
    .createNamespacedHorizontalPodAutoscaler({
      namespace,
      body: {
        metadata: { name },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment },
          minReplicas,
          maxReplicas,
          metrics: [
            {
              type: 'Resource',
              resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
            },
          ],
        },
      },
    });

export const readDeployment = (namespace: string, name: string) =>
  kubeconfig().makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace, name });

export async function waitForRunningPods(namespace: string, app: string, count: number): Promise<void> {
  await eventually(`${count} Running pods of ${app}`, async () => {
    const pods = await kubeconfig()
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace, labelSelector: `app=${app}` });
    const running = pods.items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    return running.length === count ? true : undefined;
  });
}

/** A Deployment (as createDeployment) that the controllers and KWOK have made Available. */
export async function createAvailableDeployment(
  namespace: string,
  name: string,
  replicas: number,
): Promise<void> {
  await createDeployment(namespace, name, replicas);
  await eventually(`Deployment ${name} Available`, async () => {
    const deployment = await readDeployment(namespace, name);
    const available = deployment.status?.conditions?.find((c) => c.type === 'Available');
    return available?.status === 'True' && deployment.status?.readyReplicas === replicas ? true : undefined;
  });
}

/** Small builders for the workloads end-to-end tests remediate. */
import { AppsV1Api, CoreV1Api, type V1Deployment } from '@kubernetes/client-node';
import { eventually, kubeconfig } from './stack.ts';

export async function createDeployment(
  namespace: string,
  name: string,
  replicas: number,
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
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: 'example.com/app:1',
                  resources: { requests: { cpu: '100m', memory: '64Mi' } },
                },
              ],
            },
          },
        },
      },
    });
}

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

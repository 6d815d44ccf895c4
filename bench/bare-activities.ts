/** The activities of bench/bare.workflows.ts: the Scale remediation's API calls, nothing else. */
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { labelSelectorText } from '../domain/conditions/targets.ts';

export interface BareTarget {
  namespace: string;
  name: string;
}

export function bareActivities(kubeconfig: KubeConfig) {
  const apps = kubeconfig.makeApiClient(AppsV1Api);
  const core = kubeconfig.makeApiClient(CoreV1Api);
  return {
    async backup({ namespace, name }: BareTarget): Promise<number> {
      return (await apps.readNamespacedDeployment({ namespace, name })).spec?.replicas ?? 1;
    },
    async scale({ namespace, name }: BareTarget, replicas: number): Promise<void> {
      await apps.patchNamespacedDeployment(
        {
          namespace,
          name,
          fieldManager: 'kubemedic-bench',
          force: true,
          body: {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name, namespace },
            spec: { replicas },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    },
    async verify({ namespace, name }: BareTarget): Promise<number> {
      const deployment = await apps.readNamespacedDeployment({ namespace, name });
      const labelSelector = labelSelectorText(deployment.spec?.selector);
      return (await core.listNamespacedPod({ namespace, labelSelector })).items.length;
    },
    async record({ namespace, name }: BareTarget, message: string): Promise<void> {
      const now = new Date();
      await core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${name}.bench-` },
          involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', namespace, name },
          reason: 'BenchScaled',
          message,
          type: 'Normal',
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: 'kubemedic-bench' },
        },
      });
    },
  };
}
export type BareActivities = ReturnType<typeof bareActivities>;

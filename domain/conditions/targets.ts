/** Reads one target and its Pods from the API server, for the verify activity. */
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1LabelSelector,
  type V1Pod,
} from '@kubernetes/client-node';
import type { TargetRef } from '../actions.ts';
import type { TargetState } from './readings.ts';

export async function readTargetState(kubeconfig: KubeConfig, ref: TargetRef): Promise<TargetState> {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const apps = kubeconfig.makeApiClient(AppsV1Api);
  const namespace = ref.namespace ?? '';
  switch (ref.kind) {
    case 'Node':
      return { ref, object: await core.readNode({ name: ref.name }), pods: [] };
    case 'Pod': {
      const pod = await core.readNamespacedPod({ namespace, name: ref.name });
      return { ref, object: pod, pods: [pod] };
    }
    case 'Deployment': {
      const deployment = await apps.readNamespacedDeployment({ namespace, name: ref.name });
      return {
        ref,
        object: deployment,
        pods: await podsMatching(core, namespace, deployment.spec?.selector),
      };
    }
    case 'StatefulSet': {
      const statefulSet = await apps.readNamespacedStatefulSet({ namespace, name: ref.name });
      return {
        ref,
        object: statefulSet,
        pods: await podsMatching(core, namespace, statefulSet.spec?.selector),
      };
    }
  }
}

async function podsMatching(
  core: CoreV1Api,
  namespace: string,
  selector: V1LabelSelector | undefined,
): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: labelSelectorText(selector) })).items;
}

/** A LabelSelector in the text form the API's labelSelector parameter takes. */
export function labelSelectorText(selector: V1LabelSelector | undefined): string {
  const labels = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  const expressions = (selector?.matchExpressions ?? []).map((e) => {
    switch (e.operator) {
      case 'In':
        return `${e.key} in (${(e.values ?? []).join(',')})`;
      case 'NotIn':
        return `${e.key} notin (${(e.values ?? []).join(',')})`;
      case 'Exists':
        return e.key;
      default:
        return `!${e.key}`;
    }
  });
  return [...labels, ...expressions].join(',');
}

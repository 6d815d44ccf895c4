/**
 * KubeMedic's CRDs on the local stack: `up` installs them (server-side apply of the generated
 * objects, so a schema change is applied on the next `up`), as tests and the demo need them,
 * and the admission policy that binds a RemediationDecision to its creator (as the chart does).
 */
import {
  ApiextensionsV1Api,
  type KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { decisionAdmissionObjects } from '../api/admission-policy.ts';
import { customResourceDefinitions } from '../api/index.ts';

export async function installCrds(kubeconfig: KubeConfig, timeoutMs = 30_000): Promise<void> {
  const extensions = kubeconfig.makeApiClient(ApiextensionsV1Api);
  for (const crd of customResourceDefinitions()) {
    await extensions.patchCustomResourceDefinition(
      { name: crd.metadata.name, body: crd, fieldManager: 'kubemedic-devstack', force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const current = await extensions.readCustomResourceDefinition({ name: crd.metadata.name });
      if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline)
        throw new Error(`CRD ${crd.metadata.name} was not Established within ${timeoutMs / 1000}s`);
      await sleep(100);
    }
  }
  const objects = KubernetesObjectApi.makeApiClient(kubeconfig);
  for (const object of decisionAdmissionObjects()) {
    await objects.patch(
      object,
      undefined,
      undefined,
      'kubemedic-devstack',
      true,
      PatchStrategy.ServerSideApply,
    );
  }
}

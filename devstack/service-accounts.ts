/**
 * A tenant's ServiceAccount with exactly the rights given, as a namespace admin would set it up:
 * the ServiceAccount, a Role of the same name with `rules`, and the binding between them. For
 * the demo's policies (which KubeMedic requires to name one) and the tests'.
 */
import {
  CoreV1Api,
  type KubeConfig,
  RbacAuthorizationV1Api,
  type V1PolicyRule,
} from '@kubernetes/client-node';

export async function createServiceAccount(
  kubeconfig: KubeConfig,
  namespace: string,
  name: string,
  rules: V1PolicyRule[],
): Promise<void> {
  await kubeconfig
    .makeApiClient(CoreV1Api)
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const rbac = kubeconfig.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
}

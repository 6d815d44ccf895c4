/** A tenant's ServiceAccount with exactly the rights a test gives it, as a namespace admin would set it up. */
import { CoreV1Api, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { kubeconfig } from './stack.ts';

/** Creates ServiceAccount `name` in `namespace`, a Role `name` with `rules`, and the binding between them. */
export async function givenServiceAccount(
  namespace: string,
  name: string,
  rules: V1PolicyRule[],
): Promise<void> {
  await kubeconfig()
    .makeApiClient(CoreV1Api)
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const rbac = kubeconfig().makeApiClient(RbacAuthorizationV1Api);
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

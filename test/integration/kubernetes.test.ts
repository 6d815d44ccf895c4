/**
 * Proof that the local Kubernetes is real: the controller-manager, the scheduler and KWOK turn
 * a Deployment into Running Pods; RBAC refuses and then allows; CEL rules in a CRD reject.
 */
import {
  ApiextensionsV1Api,
  ApiException,
  AppsV1Api,
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeNodeNames } from '../../devstack/fake-nodes.ts';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';

const namespace = useTestNamespace();

describe('the local Kubernetes control plane', () => {
  it('runs a Deployment of 3 replicas as 3 Running Pods on KWOK nodes', async () => {
    // Given a Deployment with three replicas
    const labels = { app: 'web' };
    await kubeconfig()
      .makeApiClient(AppsV1Api)
      .createNamespacedDeployment({
        namespace: namespace.name,
        body: {
          metadata: { name: 'web' },
          spec: {
            replicas: 3,
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
          },
        },
      });
    // When the controllers and KWOK have done their work
    const pods = await eventually('3 Running pods', async () => {
      const list = await kubeconfig()
        .makeApiClient(CoreV1Api)
        .listNamespacedPod({ namespace: namespace.name });
      const running = list.items.filter((p) => p.status?.phase === 'Running');
      return running.length === 3 ? running : undefined;
    });
    // Then each Pod runs on a fake node and the Deployment reports them available
    for (const pod of pods)
      assert.ok(fakeNodeNames.includes(pod.spec?.nodeName ?? ''), `${pod.metadata?.name} node`);
    await eventually('Deployment availableReplicas=3', async () => {
      const deployment = await kubeconfig()
        .makeApiClient(AppsV1Api)
        .readNamespacedDeployment({ namespace: namespace.name, name: 'web' });
      return deployment.status?.availableReplicas === 3 ? true : undefined;
    });
  });

  it('refuses a ServiceAccount without a Role (403) and allows it once a Role is bound', async () => {
    // Given a ServiceAccount and a token for it
    const core = kubeconfig().makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({
      namespace: namespace.name,
      body: { metadata: { name: 'reader' } },
    });
    const token = await core.createNamespacedServiceAccountToken({
      namespace: namespace.name,
      name: 'reader',
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    assert.ok(token.status?.token, 'a token was issued');
    const asReader = kubeconfigWithToken(token.status.token);
    const listPodsAsReader = () =>
      asReader.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: namespace.name });

    // When it lists pods without any Role, then the API server refuses with 403
    await assert.rejects(
      listPodsAsReader(),
      (error: unknown) => error instanceof ApiException && error.code === 403,
    );

    // When a Role that allows listing pods is bound to it, then the same call succeeds
    const rbac = kubeconfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: namespace.name,
      body: {
        metadata: { name: 'pod-reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: namespace.name,
      body: {
        metadata: { name: 'reader-reads-pods' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: namespace.name }],
      },
    });
    await eventually(
      'the bound Role to take effect',
      async () => ((await listPodsAsReader()).items ? true : undefined),
      10_000,
    );

    // And the token names the ServiceAccount, as TokenReview confirms
    const review = await kubeconfig()
      .makeApiClient(AuthenticationV1Api)
      .createTokenReview({ body: { spec: { token: token.status.token } } });
    assert.equal(review.status?.user?.username, `system:serviceaccount:${namespace.name}:reader`);
  });

  it('rejects an object that breaks a CRD CEL validation rule, with the rule message', async () => {
    // Given a CRD whose schema carries a CEL rule
    const group = `${namespace.name}.test.kubemedic.io`;
    const crdName = `widgets.${group}`;
    const extensions = kubeconfig().makeApiClient(ApiextensionsV1Api);
    await extensions.createCustomResourceDefinition({
      body: {
        metadata: { name: crdName },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      properties: { min: { type: 'integer' }, max: { type: 'integer' } },
                      x_kubernetes_validations: [
                        { rule: 'self.min <= self.max', message: 'min must not exceed max' },
                      ],
                    },
                  },
                },
              },
            },
          ],
        },
      },
    });
    try {
      await eventually('the CRD to be Established', async () => {
        const crd = await extensions.readCustomResourceDefinition({ name: crdName });
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
          ? true
          : undefined;
      });
      const objects = kubeconfig().makeApiClient(CustomObjectsApi);
      const create = (min: number, max: number, name: string) =>
        objects.createNamespacedCustomObject({
          group,
          version: 'v1',
          namespace: namespace.name,
          plural: 'widgets',
          body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name }, spec: { min, max } },
        });

      // When a bad object is created, then it is refused with the rule's message
      await assert.rejects(
        eventually('the API server to serve the new resource', async () => {
          try {
            await create(5, 1, 'bad');
          } catch (error) {
            if (error instanceof ApiException && error.code === 404) return undefined; // not served yet
            throw error;
          }
          return true;
        }),
        (error: unknown) =>
          error instanceof Error &&
          error.message.includes('min must not exceed max') &&
          error.message.includes('422'),
      );
      // And a good one is accepted
      await create(1, 5, 'good');
    } finally {
      await extensions.deleteCustomResourceDefinition({ name: crdName });
    }
  });
});

function kubeconfigWithToken(token: string): KubeConfig {
  const admin = kubeconfig();
  const cluster = admin.getCurrentCluster();
  assert.ok(cluster);
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'token-user', token }],
    contexts: [{ name: 'token', cluster: cluster.name, user: 'token-user' }],
    currentContext: 'token',
  });
  return config;
}

/**
 * Acting as a tenant's ServiceAccount: the worker's own credentials with an Impersonate-User
 * header, so the tenant's RBAC, not KubeMedic's, bounds what a request may do.
 */
import { KubeConfig } from '@kubernetes/client-node';

/** `base` impersonating `system:serviceaccount:<namespace>:<name>`; undefined when it has no current user. */
export function asServiceAccount(base: KubeConfig, namespace: string, name: string): KubeConfig | undefined {
  const user = base.getCurrentUser();
  const cluster = base.getCurrentCluster();
  if (user === null || cluster === null) return undefined;
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ ...user, impersonateUser: `system:serviceaccount:${namespace}:${name}` }],
    contexts: [{ name: 'impersonating', cluster: cluster.name, user: user.name }],
    currentContext: 'impersonating',
  });
  return config;
}

/**
 * Where the running stack is, for everything that talks to it (tests, the CLI, the demo, the
 * chart helpers, a person's shell). It sits below stack.ts, which starts and stops the servers,
 * so the modules stack.ts uses can read it without importing stack.ts back.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { clusters, type KubernetesCluster } from './clusters.ts';
import { binary, buildCache, paths, ports } from './config.ts';
import { temporalServerAddress } from './temporal-server.ts';

/** The admin's kubeconfig of the first cluster, or of the one named (clusters.ts). */
export function loadKubeconfig(cluster: KubernetesCluster = clusters.a): KubeConfig {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(cluster.kubeconfig);
  return kubeconfig;
}

/** What tests, the CLI and a person need to reach the stack, as shell exports. */
export function environment() {
  return {
    KUBECONFIG: paths.kubeconfig,
    /** The second Kubernetes cluster (devstack/clusters.ts); its context is named in the file. */
    KUBECONFIG_B: clusters.b.kubeconfig,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_UI_URL: `http://localhost:${ports.temporalUi}`,
    /** The production-shaped temporal-server on PostgreSQL (devstack/temporal-server.ts), same namespace. */
    KUBEMEDIC_TEMPORAL_SERVER_ADDRESS: temporalServerAddress(),
    PROMETHEUS_URL: `http://127.0.0.1:${ports.prometheus}`,
    ALERTMANAGER_URL: `http://127.0.0.1:${ports.alertmanager}`,
    KUBEMEDIC_PROMETHEUS_RULES_DIR: paths.prometheusRules,
    KUBEMEDIC_ALERT_SINK_PORT: String(ports.alertSink),
    KUBEMEDIC_LOG_DIR: paths.logs,
    KUBEMEDIC_BUILD_CACHE: buildCache,
    TEMPORAL_BIN: binary('temporal'),
    HELM_BIN: binary('helm'),
    PROMTOOL_BIN: binary('promtool'),
  };
}

/**
 * The stack's two Temporal servers, same namespace, other persistence: the e2e tests and the
 * bench run on both side by side. Addresses are read when used, labels at once (test names).
 */
export const temporalServers = [
  { label: 'dev server', address: () => environment().TEMPORAL_ADDRESS },
  { label: 'temporal-server + PostgreSQL', address: () => environment().KUBEMEDIC_TEMPORAL_SERVER_ADDRESS },
] as const;
export type TemporalServer = (typeof temporalServers)[number];

/**
 * Where the running stack is, for everything that talks to it (tests, the CLI, the demo, the
 * chart helpers, a person's shell). It sits below stack.ts, which starts and stops the servers,
 * so the modules stack.ts uses can read it without importing stack.ts back.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { binary, buildCache, paths, ports } from './config.ts';

export function loadKubeconfig(): KubeConfig {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(paths.kubeconfig);
  return kubeconfig;
}

/** What tests, the CLI and a person need to reach the stack, as shell exports. */
export function environment() {
  return {
    KUBECONFIG: paths.kubeconfig,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_UI_URL: `http://localhost:${ports.temporalUi}`,
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

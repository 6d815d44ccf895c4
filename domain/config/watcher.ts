/** The policy watcher process's configuration (policy-watcher/main.ts), from the environment the chart sets. */
import { z } from 'zod';
import { type Environment, parseEnvironment, optional, withDefault } from './environment.ts';
import {
  metricsPort,
  port,
  prometheusUrl,
  requireServiceAccount,
  processConfig,
  type ProcessConfig,
  processEnvironment,
} from './variables.ts';

const labelTerm = /^[A-Za-z0-9._/-]+=[A-Za-z0-9._-]*$/;

export const watcherEnvironment = processEnvironment({
  PROMETHEUS_URL: prometheusUrl,
  KUBEMEDIC_POLICY_SELECTOR: optional(
    z.string().refine((text) => text.split(',').every((term) => labelTerm.test(term.trim()))),
    {
      description:
        'Evaluate only the policies with these labels, so several watcher groups can share the policies of one cluster.',
      allowed: 'label=value pairs separated by commas (team=shop,tier=web)',
      chart: 'watcher.policySelector',
    },
  ),
  KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT: requireServiceAccount,
  KUBEMEDIC_ALERT_WEBHOOK_PORT: withDefault(port(0), {
    description: "Alertmanager's webhook receiver: Alertmanager posts firing alerts to /alertmanager.",
    allowed: 'a port, 0 (any free one) to 65535',
    default: '8091',
    chart: 'watcher.alertWebhookPort',
  }),
  KUBEMEDIC_METRICS_PORT: metricsPort('watcher', 9465, 'watcher.metricsPort'),
});

export interface WatcherConfig extends ProcessConfig {
  prometheusUrl: string | undefined;
  policySelector: string | undefined;
  requireServiceAccount: boolean;
  alertWebhookPort: number;
  metricsPort: number;
}

export function watcherConfig(env: Environment): WatcherConfig {
  const v = parseEnvironment(watcherEnvironment, env);
  return {
    ...processConfig(v),
    prometheusUrl: v.PROMETHEUS_URL,
    policySelector: v.KUBEMEDIC_POLICY_SELECTOR,
    requireServiceAccount: v.KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT,
    alertWebhookPort: v.KUBEMEDIC_ALERT_WEBHOOK_PORT,
    metricsPort: v.KUBEMEDIC_METRICS_PORT,
  };
}

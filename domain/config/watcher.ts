/** The policy watcher process's configuration (policy-watcher/main.ts), from the environment the chart sets. */
import { isIP } from 'node:net';
import { z } from 'zod';
import type { LogLevel } from '../logging/logger.ts';
import { type Environment, parseEnvironment, optional, withDefault } from './environment.ts';
import {
  logLevel,
  metricsPort,
  port,
  prometheusUrl,
  requireServiceAccount,
  processConfig,
  type ProcessConfig,
  processEnvironment,
  tracingOn,
  tracingVariables,
} from './variables.ts';

const labelTerm = /^[A-Za-z0-9._/-]+=[A-Za-z0-9._-]*$/;

const receiverTlsFile = (description: string) =>
  optional(z.string().min(1), {
    description,
    allowed: 'a path to a file',
    chart: 'alertReceiver.tls.secretName',
  });

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
  KUBEMEDIC_ALERT_WEBHOOK_HOST: withDefault(
    z.string().refine((text) => isIP(text) !== 0),
    {
      description:
        "The address the Alertmanager receiver listens on. Loopback by default, so nothing off the machine reaches it unless told; the chart sets 0.0.0.0 (every interface of the Pod) and admits only Alertmanager's namespace with a NetworkPolicy.",
      allowed: 'an IP address (0.0.0.0 or :: for every interface)',
      default: '127.0.0.1',
      chart: 'watcher.alertWebhookHost',
    },
  ),
  KUBEMEDIC_ALERT_RECEIVER_AUTH: withDefault(z.enum(['token', 'mtls', 'none']), {
    description:
      'How the Alertmanager receiver authenticates a request. token: an `Authorization: Bearer` header holding the token in KUBEMEDIC_ALERT_RECEIVER_TOKEN_FILE, compared in constant time; anything else is refused 401 and starts nothing. mtls: the receiver serves HTTPS and wants a client certificate signed by KUBEMEDIC_ALERT_RECEIVER_CLIENT_CA (refused 401 otherwise). none: anyone who reaches the port can post alerts that start remediations (the watcher logs a warning at start); only for a receiver nothing untrusted can reach.',
    allowed: 'token, mtls or none',
    default: 'token',
    chart: 'alertReceiver.auth',
  }),
  KUBEMEDIC_ALERT_RECEIVER_TOKEN_FILE: optional(z.string().min(1), {
    description:
      'The file holding the bearer token Alertmanager must send (at least 16 characters; surrounding white space is ignored). Read again for every request, so a rotated Secret takes effect without a restart. Required when KUBEMEDIC_ALERT_RECEIVER_AUTH=token; the chart mounts it from a Secret it generates (or alertReceiver.existingSecret).',
    allowed: 'a path to a file',
    chart: 'alertReceiver.existingSecret',
  }),
  KUBEMEDIC_ALERT_RECEIVER_TLS_CERT: receiverTlsFile(
    "The receiver's serving certificate (PEM), for KUBEMEDIC_ALERT_RECEIVER_AUTH=mtls.",
  ),
  KUBEMEDIC_ALERT_RECEIVER_TLS_KEY: receiverTlsFile(
    "The serving certificate's private key (PEM), for KUBEMEDIC_ALERT_RECEIVER_AUTH=mtls.",
  ),
  KUBEMEDIC_ALERT_RECEIVER_CLIENT_CA: receiverTlsFile(
    "The CA (PEM) that must have signed Alertmanager's client certificate, for KUBEMEDIC_ALERT_RECEIVER_AUTH=mtls.",
  ),
  KUBEMEDIC_METRICS_PORT: metricsPort('watcher', 9465, 'watcher.metricsPort'),
  KUBEMEDIC_LOG_LEVEL: logLevel('watcher'),
  KUBEMEDIC_CLUSTER_DECISIONS_NAMESPACE: optional(
    z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
      .max(63),
    {
      description:
        "RemediationDecisions in this namespace may decide runs of ClusterRemediationPolicies (a namespaced policy's runs are decided from its own namespace only). Unset: the watcher's own namespace in a Pod (the chart's release namespace), none elsewhere.",
      allowed: 'a namespace name',
    },
  ),
  ...tracingVariables,
}).superRefine((values, context) => {
  if (
    values.KUBEMEDIC_ALERT_RECEIVER_AUTH === 'token' &&
    values.KUBEMEDIC_ALERT_RECEIVER_TOKEN_FILE === undefined
  ) {
    context.addIssue({
      code: 'custom',
      message:
        'KUBEMEDIC_ALERT_RECEIVER_TOKEN_FILE is required while KUBEMEDIC_ALERT_RECEIVER_AUTH=token (the default): ' +
        'name the file holding the token Alertmanager sends, or set KUBEMEDIC_ALERT_RECEIVER_AUTH=none to accept alerts from anyone',
    });
  }
  const tls = [
    values.KUBEMEDIC_ALERT_RECEIVER_TLS_CERT,
    values.KUBEMEDIC_ALERT_RECEIVER_TLS_KEY,
    values.KUBEMEDIC_ALERT_RECEIVER_CLIENT_CA,
  ];
  if (values.KUBEMEDIC_ALERT_RECEIVER_AUTH === 'mtls' && tls.includes(undefined)) {
    context.addIssue({
      code: 'custom',
      message:
        'KUBEMEDIC_ALERT_RECEIVER_AUTH=mtls needs KUBEMEDIC_ALERT_RECEIVER_TLS_CERT, ' +
        'KUBEMEDIC_ALERT_RECEIVER_TLS_KEY and KUBEMEDIC_ALERT_RECEIVER_CLIENT_CA',
    });
  }
});

/**
 * Who may post alerts: the bearer token in a file (the default), a client certificate, or
 * anyone, chosen explicitly.
 */
export type AlertReceiverAuth =
  | { mode: 'token'; tokenFile: string }
  | { mode: 'mtls'; certFile: string; keyFile: string; clientCaFile: string }
  | { mode: 'none' };

/** Where the watcher's Alertmanager receiver listens, and whom it lets in. */
export interface AlertReceiverOptions {
  /** 0: any free port. */
  port: number;
  /** The address to listen on; loopback when absent (the chart sets 0.0.0.0 in a Pod). */
  host?: string;
  auth: AlertReceiverAuth;
}

export interface WatcherConfig extends ProcessConfig {
  logLevel: LogLevel;
  prometheusUrl: string | undefined;
  policySelector: string | undefined;
  requireServiceAccount: boolean;
  alertReceiver: AlertReceiverOptions;
  metricsPort: number;
  clusterDecisionsNamespace: string | undefined;
  /** Whether the watcher's Temporal calls start traces (domain/tracing.ts). */
  tracing: boolean;
}

export function watcherConfig(env: Environment): WatcherConfig {
  const v = parseEnvironment(watcherEnvironment, env);
  return {
    ...processConfig(v),
    prometheusUrl: v.PROMETHEUS_URL,
    policySelector: v.KUBEMEDIC_POLICY_SELECTOR,
    requireServiceAccount: v.KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT,
    alertReceiver: {
      port: v.KUBEMEDIC_ALERT_WEBHOOK_PORT,
      host: v.KUBEMEDIC_ALERT_WEBHOOK_HOST,
      auth: receiverAuth(v),
    },
    metricsPort: v.KUBEMEDIC_METRICS_PORT,
    logLevel: v.KUBEMEDIC_LOG_LEVEL,
    clusterDecisionsNamespace: v.KUBEMEDIC_CLUSTER_DECISIONS_NAMESPACE,
    tracing: tracingOn(v),
  };
}

/** The receiver's authentication; the schema's refinement has made sure its files are named. */
function receiverAuth(v: z.output<typeof watcherEnvironment>): AlertReceiverAuth {
  switch (v.KUBEMEDIC_ALERT_RECEIVER_AUTH) {
    case 'none':
      return { mode: 'none' };
    case 'mtls':
      return {
        mode: 'mtls',
        certFile: v.KUBEMEDIC_ALERT_RECEIVER_TLS_CERT!,
        keyFile: v.KUBEMEDIC_ALERT_RECEIVER_TLS_KEY!,
        clientCaFile: v.KUBEMEDIC_ALERT_RECEIVER_CLIENT_CA!,
      };
    case 'token':
      return { mode: 'token', tokenFile: v.KUBEMEDIC_ALERT_RECEIVER_TOKEN_FILE! };
  }
}

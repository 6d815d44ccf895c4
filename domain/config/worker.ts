/** The worker process's configuration (worker/main.ts), from the environment the chart sets. */
import { msToNumber } from '@temporalio/common/lib/time.js';
import { isIP } from 'node:net';
import { z } from 'zod';
import { notificationSink } from '../../api/policy.ts';
import type { LogLevel } from '../logging/logger.ts';
import { type Environment, optional, parseEnvironment, withDefault } from './environment.ts';
import { taskQueueFor } from './names.ts';
import {
  alertmanagerUrl,
  boolean,
  httpUrl,
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

const namespaceName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A comma-separated list whose entries each meet `entry`; blanks are dropped. */
const commaSeparated = (entry: z.ZodType<string, string>) =>
  z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== ''),
    )
    .pipe(z.array(entry));
const hostPattern = /^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$|^[0-9a-f:.]+$/i;
const cidr = z.string().refine((text) => {
  const [network = '', bits = '', ...rest] = text.split('/');
  const family = isIP(network);
  return rest.length === 0 && family !== 0 && /^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}, 'a CIDR such as 10.96.0.0/12');
const limit = (description: string, chart: string) =>
  optional(z.coerce.number().int().min(1), {
    description: `${description} Unset: no such limit.`,
    allowed: 'a positive integer',
    chart,
  });

/**
 * The cluster's default sinks: a JSON list of policy sinks, each with a unique name (how runs name
 * it), its Secrets in KubeMedic's own namespace.
 */
const defaultSinks = z
  .string()
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'not JSON' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(notificationSink.safeExtend({ name: z.string().regex(namespaceName) }))
      .max(10)
      .refine((sinks) => new Set(sinks.map((s) => s.name)).size === sinks.length, 'names must be unique'),
  );

export const workerEnvironment = processEnvironment({
  PROMETHEUS_URL: prometheusUrl,
  ALERTMANAGER_URL: alertmanagerUrl,
  KUBEMEDIC_MAX_CONCURRENT: limit(
    'Runs acting at once across every policy of the cluster.',
    'limits.maxConcurrent',
  ),
  KUBEMEDIC_MAX_PER_HOUR: limit(
    'Runs started per hour across every policy of the cluster.',
    'limits.maxPerHour',
  ),
  KUBEMEDIC_MAX_CONCURRENT_PER_NAMESPACE: limit(
    'Runs acting at once in one namespace, across every policy.',
    'limits.maxConcurrentPerNamespace',
  ),
  KUBEMEDIC_PROTECTED_NAMESPACES: optional(commaSeparated(z.string().regex(namespaceName)), {
    description:
      'Namespaces never touched, besides kube-system, kube-public and kube-node-lease, which always are.',
    allowed: 'namespace names separated by commas',
    chart: 'protectedNamespaces (the release namespace is always added)',
  }),
  KUBEMEDIC_OUTBOUND_ALLOW: optional(commaSeparated(z.string().regex(hostPattern)), {
    description:
      "The only hosts a namespaced policy's webhook actions and notification sinks may call (cluster policies are the operator's own and may call any host). Unset: any host. Either way every address a host resolves to is checked: loopback, link-local (the metadata address among them), unspecified and KUBEMEDIC_OUTBOUND_DENY_CIDRS are refused, redirects are not followed.",
    allowed: 'host names or addresses separated by commas; *.example.com for every subdomain',
  }),
  KUBEMEDIC_OUTBOUND_DENY_CIDRS: optional(commaSeparated(cidr), {
    description:
      "The cluster's own service and pod ranges, which no webhook or notification may reach (the API server, Prometheus, other tenants' Services).",
    allowed: 'CIDRs separated by commas, such as 10.96.0.0/12,10.244.0.0/16',
  }),
  KUBEMEDIC_OUTBOUND_ALLOW_LOOPBACK: withDefault(boolean, {
    description:
      'For tests and local demos only: lets webhooks and notifications reach loopback addresses (receivers on 127.0.0.1). Never in a cluster: the worker would call its own ports for any tenant.',
    allowed: 'true or false',
    default: 'false',
  }),
  KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT: requireServiceAccount,
  KUBEMEDIC_NAMESPACE: withDefault(z.string().regex(namespaceName), {
    description:
      "The worker's own namespace, where cluster policies' notification Secrets live; the chart sets the release namespace.",
    allowed: 'a namespace name',
    default: 'kubemedic',
  }),
  KUBEMEDIC_DEFAULT_NOTIFICATIONS: optional(defaultSinks, {
    description:
      "Sinks that hear of every policy's runs besides the policy's own (a policy opts out with spec.defaultNotifications: false). Their Secrets are read from KUBEMEDIC_NAMESPACE as the worker; docs/notifications.md.",
    allowed:
      'a JSON list of at most 10 sinks as in a policy\'s spec.notifications, each with a unique name (DNS-1123 label), such as [{"name":"oncall","type":"PagerDuty","routingKeySecretRef":{"name":"pagerduty","key":"routingKey"}}]',
    chart: 'notifications.defaults',
  }),
  KUBEMEDIC_WEB_UI_URL: optional(httpUrl, {
    description: 'The Temporal Web UI, for links to runs in notifications.',
    allowed: 'an http:// or https:// URL',
    chart: 'temporal.webUiUrl',
  }),
  KUBEMEDIC_SHUTDOWN_GRACE: withDefault(
    z.string().transform((text, context) => {
      try {
        const ms = msToNumber(text as Parameters<typeof msToNumber>[0]);
        if (ms >= 0) return ms;
      } catch {
        // reported below
      }
      context.addIssue({ code: 'custom', message: 'not a duration' });
      return z.NEVER;
    }),
    {
      description:
        "How long activities in flight may finish after SIGTERM before they are cancelled (the Pod's termination grace is longer).",
      allowed: "a duration, as '30 seconds', '30s' or '2m'",
      default: '30 seconds',
      chart: 'worker.shutdownGraceSeconds',
    },
  ),
  KUBEMEDIC_METRICS_PORT: metricsPort('worker', 9464, 'worker.metricsPort'),
  KUBEMEDIC_SDK_METRICS_PORT: withDefault(port(1), {
    description:
      "The Temporal SDK runtime's own Prometheus exporter, on 127.0.0.1 only; the worker's /metrics appends what it serves. A second worker on one host needs another port.",
    allowed: 'a port, 1 to 65535',
    default: '9466',
  }),
  KUBEMEDIC_LOG_LEVEL: logLevel('worker'),
  ...tracingVariables,
});

export interface WorkerConfig extends ProcessConfig {
  taskQueue: string;
  logLevel: LogLevel;
  metricsPort: number;
  sdkMetricsPort: number;
  shutdownGraceMs: number;
  /** Whether runs are traced (domain/tracing.ts). */
  tracing: boolean;
  /** What the activities are given besides the kubeconfig (activities/ ActivityDependencies). */
  activities: {
    prometheusUrl: string | undefined;
    alertmanagerUrl: string | undefined;
    globalLimits: { maxConcurrent?: number; maxPerHour?: number };
    maxConcurrentPerNamespace: number | undefined;
    protectedNamespaces: string[];
    requireServiceAccount: boolean;
    ownNamespace: string;
    webUiUrl: string | undefined;
    /** The cluster's default notification sinks (activities/notify.ts DefaultSink). */
    defaultSinks: z.output<typeof defaultSinks>;
    /** What webhooks and notifications may reach (activities/outbound.ts OutboundRules). */
    outbound: { allowHosts?: string[]; deniedCidrs?: string[]; allowLoopback: boolean };
  };
}

export function workerConfig(env: Environment): WorkerConfig {
  const v = parseEnvironment(workerEnvironment, env);
  return {
    ...processConfig(v),
    taskQueue: taskQueueFor(v.KUBEMEDIC_CLUSTER),
    logLevel: v.KUBEMEDIC_LOG_LEVEL,
    metricsPort: v.KUBEMEDIC_METRICS_PORT,
    sdkMetricsPort: v.KUBEMEDIC_SDK_METRICS_PORT,
    shutdownGraceMs: v.KUBEMEDIC_SHUTDOWN_GRACE,
    tracing: tracingOn(v),
    activities: {
      prometheusUrl: v.PROMETHEUS_URL,
      alertmanagerUrl: v.ALERTMANAGER_URL,
      globalLimits: { maxConcurrent: v.KUBEMEDIC_MAX_CONCURRENT, maxPerHour: v.KUBEMEDIC_MAX_PER_HOUR },
      maxConcurrentPerNamespace: v.KUBEMEDIC_MAX_CONCURRENT_PER_NAMESPACE,
      protectedNamespaces: v.KUBEMEDIC_PROTECTED_NAMESPACES ?? [],
      requireServiceAccount: v.KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT,
      ownNamespace: v.KUBEMEDIC_NAMESPACE,
      webUiUrl: v.KUBEMEDIC_WEB_UI_URL,
      defaultSinks: v.KUBEMEDIC_DEFAULT_NOTIFICATIONS ?? [],
      outbound: {
        allowHosts: v.KUBEMEDIC_OUTBOUND_ALLOW,
        deniedCidrs: v.KUBEMEDIC_OUTBOUND_DENY_CIDRS,
        allowLoopback: v.KUBEMEDIC_OUTBOUND_ALLOW_LOOPBACK,
      },
    },
  };
}

/** Variables more than one process reads, each defined once with its documentation. */
import { z } from 'zod';
import { logLevels } from '../logging/logger.ts';
import { optional, withDefault } from './environment.ts';
import {
  checkTemporalVariables,
  type TemporalConfig,
  temporalConfig,
  temporalVariables,
} from './temporal-connection.ts';

export const httpUrl = z
  .string()
  .refine((text) => URL.canParse(text) && /^https?:$/.test(new URL(text).protocol));
export const port = (min: number) => z.coerce.number().int().min(min).max(65_535);
export const boolean = z.enum(['true', 'false']).transform((text) => text === 'true');

/** The chart's clusterName rule (values.schema.json): it must name a task queue and workflow IDs. */
export const kubemedicCluster = withDefault(
  z
    .string()
    .max(53)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/),
  {
    description:
      'This cluster among those sharing a Temporal namespace: the task queue is kubemedic-<cluster>, and it prefixes every workflow ID.',
    allowed: 'lowercase letters, digits and dashes, at most 53, starting and ending with a letter or digit',
    default: 'local',
    chart: 'clusterName',
  },
);

export const kubeconfig = optional(z.string(), {
  description:
    'The kubeconfig file, read by the Kubernetes client (in a Pod, unset: the ServiceAccount mounted in it).',
  allowed: 'a path, or several separated by colons',
});

export const prometheusUrl = optional(httpUrl, {
  description:
    "Prometheus, which the policies' Prometheus conditions query (not needed for conditions on Kubernetes state).",
  allowed: 'an http:// or https:// URL',
  chart: 'prometheusUrl',
});

export const alertmanagerUrl = optional(httpUrl, {
  description:
    'Alertmanager, asked when a run of a policy with Alertmanager conditions is verified (without it such a condition reads no data).',
  allowed: 'an http:// or https:// URL',
  chart: 'alertmanagerUrl',
});

export const requireServiceAccount = withDefault(boolean, {
  description:
    "Every namespaced RemediationPolicy must name a ServiceAccount (spec.serviceAccountName) for its actions to impersonate; one that does not is Invalid. false is the opt-out: such a policy then acts with the worker's own rights inside its namespace.",
  allowed: 'true or false',
  default: 'true',
  chart: 'requireServiceAccount',
});

/** How much a process logs (domain/logging): its own lines and, in the worker, the Temporal runtime's, activities' and workflows'. */
export const logLevel = (process: 'worker' | 'watcher') =>
  withDefault(
    z
      .string()
      .transform((text) => text.toUpperCase())
      .pipe(z.enum(logLevels)),
    {
      description: `The least severe level the ${process} logs (JSON lines on stdout).`,
      allowed: `${logLevels.join(', ')} (any case)`,
      default: 'INFO',
      chart: 'logLevel',
    },
  );

/**
 * OpenTelemetry tracing (domain/tracing.ts), off by default: on when an OTLP endpoint is set (the
 * standard variables, which the exporter itself reads), or when KUBEMEDIC_TRACING says so.
 */
export const tracingVariables = {
  KUBEMEDIC_TRACING: optional(z.enum(['otlp', 'off']), {
    description:
      'otlp: trace runs (workflow, activity and Temporal client spans; activity log lines carry trace_id and span_id) and export the spans over OTLP/HTTP. off: no tracing even with an endpoint set. Unset: on exactly when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set.',
    allowed: 'otlp or off',
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: optional(httpUrl, {
    description:
      'The OpenTelemetry collector (OTLP/HTTP); spans go to its /v1/traces path. Setting it turns tracing on. The other standard OTEL_EXPORTER_OTLP_* variables (headers, timeout) are read by the exporter as well.',
    allowed: 'an http:// or https:// URL, such as http://otel-collector:4318',
  }),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optional(httpUrl, {
    description:
      'The full URL spans are posted to, instead of the /v1/traces path of OTEL_EXPORTER_OTLP_ENDPOINT. Setting it turns tracing on.',
    allowed: 'an http:// or https:// URL',
  }),
};

/** Whether a process traces, from its tracingVariables. */
export const tracingOn = (v: {
  KUBEMEDIC_TRACING?: 'otlp' | 'off';
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
}): boolean =>
  v.KUBEMEDIC_TRACING === undefined
    ? (v.OTEL_EXPORTER_OTLP_ENDPOINT ?? v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) !== undefined
    : v.KUBEMEDIC_TRACING === 'otlp';

/** /metrics and /healthz: each process has its own default, so both can run on one host. */
export const metricsPort = (process: string, defaultPort: number, chart: string) =>
  withDefault(port(1), {
    description: `The ${process}'s /metrics and /healthz.`,
    allowed: 'a port, 1 to 65535',
    default: String(defaultPort),
    chart,
  });

/** A process's environment: what every process reads (Temporal, its cluster, the kubeconfig) and its own variables. */
export const processEnvironment = <Own extends z.ZodRawShape>(own: Own) =>
  z
    .object({ ...temporalVariables, KUBEMEDIC_CLUSTER: kubemedicCluster, KUBECONFIG: kubeconfig, ...own })
    .superRefine((values, context) => checkTemporalVariables(values as Record<string, unknown>, context));

/** What every process's configuration holds. */
export interface ProcessConfig {
  temporal: TemporalConfig;
  cluster: string;
}

export const processConfig = (
  variables: Parameters<typeof temporalConfig>[0] & { KUBEMEDIC_CLUSTER: string },
): ProcessConfig => ({ temporal: temporalConfig(variables), cluster: variables.KUBEMEDIC_CLUSTER });

/**
 * The worker's tracing (on when domain/config says so): activity spans from the activity
 * interceptors (whose outbound half also puts trace_id and span_id on activity log lines), workflow
 * spans from the workflow interceptors in the workflow bundle, handed out of the sandbox through
 * the SDK's `exporter` sink to the process's span processor. Loaded only when tracing is on.
 */
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';
import { createRequire } from 'node:module';
import type { Tracing } from '../domain/tracing.ts';

/** The workflow interceptors' module, bundled into the workflow code (worker/build.ts, or at start). */
export const tracingWorkflowModules = [
  createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

/**
 * `options` with tracing added. A prebuilt workflowBundle must already hold the workflow
 * interceptors (the SDK ignores workflowModules then); from workflowsPath they are bundled now.
 */
export function withTracing(options: WorkerOptions, tracing: Tracing): WorkerOptions {
  return {
    ...options,
    interceptors: {
      ...options.interceptors,
      activity: [
        ...(options.interceptors?.activity ?? []),
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
      ...(options.workflowBundle === undefined
        ? { workflowModules: [...(options.interceptors?.workflowModules ?? []), ...tracingWorkflowModules] }
        : {}),
    },
    sinks: { ...options.sinks, exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}

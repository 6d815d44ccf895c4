/**
 * OpenTelemetry tracing for the worker and the watcher, started only when the configuration turns
 * it on (domain/config tracingVariables), so a process without it loads none of this. One tracer
 * provider per process, registered globally because Temporal's interceptors
 * (@temporalio/interceptors-opentelemetry) use the global tracer; an AsyncLocalStorage context
 * manager, so the span an interceptor opens is the active one in the code it runs (the activity,
 * its log lines); W3C trace context, which the interceptors put in Temporal headers, so a run's
 * trace goes from the watcher's start call through the workflow to each activity.
 */
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';

export interface Tracing {
  /** Where ended spans go; the worker's workflow span sink feeds it too (workflow spans end in the sandbox). */
  spanProcessor: SpanProcessor;
  /** Names the process (service.name) on every span. */
  resource: Resource;
  /**
   * For a Temporal Client (`interceptors.workflow`): a span per call (start, signal, update,
   * query), its context sent in the call's headers, so the run's trace begins at the start call.
   */
  clientInterceptors: WorkflowClientInterceptor[];
  /** Exports the spans still buffered, then stops; before the process exits. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing for `service` (kubemedic-worker, kubemedic-watcher). Spans are batched to the
 * OTLP/HTTP endpoint the standard OTEL_EXPORTER_OTLP_* variables name, unless a test passes its
 * own processor.
 */
export function startTracing(
  service: string,
  spanProcessor: SpanProcessor = new BatchSpanProcessor(new OTLPTraceExporter()),
): Tracing {
  const resource = Resource.default().merge(new Resource({ 'service.name': service }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  return {
    spanProcessor,
    resource,
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor()],
    shutdown: () => provider.shutdown(),
  };
}

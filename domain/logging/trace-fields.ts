/**
 * The active span's ids for a log line (the logger's mixin when tracing is on), so a line written
 * while an activity runs can be found from its trace in the tracing backend, and back. Only
 * @opentelemetry/api: with no tracer provider registered there is never an active span.
 */
import { context, isSpanContextValid, trace } from '@opentelemetry/api';

/** `trace_id` and `span_id` (hex, as tracing backends show them), or nothing outside a span. */
export function traceFields(): Record<string, string> {
  const spanContext = trace.getSpan(context.active())?.spanContext();
  return spanContext !== undefined && isSpanContextValid(spanContext)
    ? { trace_id: spanContext.traceId, span_id: spanContext.spanId }
    : {};
}

/**
 * Tracing is off unless configured, and then the worker is as it was; on, it has the interceptors
 * and the workflow span sink, and log lines inside a span carry its ids. test/integration/
 * tracing.test.ts runs a traced workflow on the real Temporal.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { NativeConnection } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigurationError } from '../../domain/config/environment.ts';
import { watcherConfig } from '../../domain/config/watcher.ts';
import { workerConfig } from '../../domain/config/worker.ts';
import { traceFields } from '../../domain/logging/trace-fields.ts';
import { startTracing } from '../../domain/tracing.ts';
import { tracingWorkflowModules } from '../../worker/tracing.ts';
import { workerOptions, workflowsPath } from '../../worker/worker.ts';

const options = {
  // Only passed through: no connection is made.
  connection: {} as NativeConnection,
  namespace: 'default',
  taskQueue: 'kubemedic-test',
  kubeconfig: new KubeConfig(),
  prometheusUrl: undefined,
};

describe('tracing configuration', () => {
  it('is off unless an OTLP endpoint is set or KUBEMEDIC_TRACING=otlp; off wins over an endpoint', () => {
    const endpoint = 'http://otel-collector:4318';
    assert.equal(workerConfig({}).tracing, false);
    assert.equal(workerConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).tracing, true);
    assert.equal(workerConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces` }).tracing, true);
    assert.equal(workerConfig({ KUBEMEDIC_TRACING: 'otlp' }).tracing, true);
    assert.equal(
      workerConfig({ KUBEMEDIC_TRACING: 'off', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).tracing,
      false,
    );
    assert.equal(
      watcherConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, KUBEMEDIC_ALERT_RECEIVER_AUTH: 'none' }).tracing,
      true,
    );
  });

  it('refuses a value it does not know, naming the variable', () => {
    assert.throws(
      () => workerConfig({ KUBEMEDIC_TRACING: 'jaeger' }),
      (error: ConfigurationError) =>
        error.message.includes('KUBEMEDIC_TRACING="jaeger" is not allowed: otlp or off'),
    );
    assert.throws(
      () => workerConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }),
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
  });
});

describe('the worker options', () => {
  it('with tracing off: no interceptors, no sinks, the workflows bundled as they are', async () => {
    const sdk = await workerOptions(options);
    assert.equal(sdk.interceptors, undefined);
    assert.equal(sdk.sinks, undefined);
    assert.equal(sdk.workflowsPath, workflowsPath);
  });

  it('with tracing on: activity interceptors, the workflow interceptors bundled in, the span sink', async () => {
    const tracing = startTracing('kubemedic-test', new SimpleSpanProcessor(new InMemorySpanExporter()));
    try {
      const sdk = await workerOptions({ ...options, tracing });
      assert.equal(sdk.interceptors?.activity?.length, 1);
      assert.deepEqual(sdk.interceptors?.workflowModules, tracingWorkflowModules);
      assert.ok(sdk.sinks?.exporter, 'the workflow span exporter sink');

      // And a log line's mixin gives the active span's ids inside a span, nothing outside
      assert.deepEqual(traceFields(), {});
      trace.getTracer('test').startActiveSpan('step', (span) => {
        assert.deepEqual(traceFields(), {
          trace_id: span.spanContext().traceId,
          span_id: span.spanContext().spanId,
        });
        span.end();
      });
    } finally {
      await tracing.shutdown();
    }
  });
});

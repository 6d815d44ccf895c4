/**
 * OpenTelemetry tracing through Temporal's interceptors, on the real Temporal dev server: the
 * worker options worker/tracing.ts adds (activity interceptors, workflow interceptors bundled in,
 * the workflow span sink), from the sources and from a prebuilt bundle, a client with the client
 * interceptor as the watcher has, and the process's structured logger with the trace-id mixin.
 * Spans go to an in-memory exporter.
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Client, Connection } from '@temporalio/client';
import {
  bundleWorkflowCode,
  NativeConnection,
  Runtime,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { environment } from '../../devstack/stack.ts';
import { createLogger } from '../../domain/logging/logger.ts';
import { StructuredTemporalLogger } from '../../domain/logging/temporal-logger.ts';
import { traceFields } from '../../domain/logging/trace-fields.ts';
import { startTracing, type Tracing } from '../../domain/tracing.ts';
import { tracingWorkflowModules, withTracing } from '../../worker/tracing.ts';
import * as activities from '../fixtures/tracing/activities.ts';

const workflowsPath = fileURLToPath(new URL('../fixtures/tracing/workflows.ts', import.meta.url));

describe('tracing a run', () => {
  const exporter = new InMemorySpanExporter();
  const lines: Record<string, unknown>[] = [];
  let tracing: Tracing;
  let connection: Connection;
  let client: Client;

  before(async () => {
    tracing = startTracing('kubemedic-test', new SimpleSpanProcessor(exporter));
    // As worker/main.ts does with tracing on: the runtime logs through the structured logger with the mixin.
    const logger = createLogger({
      process: 'worker',
      level: 'INFO',
      mixin: traceFields,
      destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    });
    Runtime.install({ logger: new StructuredTemporalLogger(logger) });
    // The Temporal dev server of the local stack (this test needs nothing else of it).
    connection = await Connection.connect({ address: environment().TEMPORAL_ADDRESS });
    client = new Client({
      connection,
      namespace: environment().TEMPORAL_NAMESPACE,
      // As policy-watcher/main.ts makes its client with tracing on.
      interceptors: { workflow: tracing.clientInterceptors },
    });
  });
  after(async () => {
    await connection?.close();
    await tracing?.shutdown();
  });

  /** Runs the fixture workflow on a traced worker and checks its trace and its activity's log line. */
  async function checkTracedRun(workflowCode: Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle'>) {
    // Given a worker with tracing, on a task queue of its own
    exporter.reset();
    const taskQueue = `tracing-${randomUUID()}`;
    const workerConnection = await NativeConnection.connect({ address: environment().TEMPORAL_ADDRESS });
    try {
      const options = {
        connection: workerConnection,
        namespace: environment().TEMPORAL_NAMESPACE,
        taskQueue,
      };
      const worker = await Worker.create(withTracing({ ...options, ...workflowCode, activities }, tracing));
      // When a client starts a run and it completes
      const result = await worker.runUntil(
        client.workflow.execute('tracedRemediation', {
          taskQueue,
          workflowId: `tracing/${randomUUID()}`,
          args: ['deployment/web'],
        }),
      );
      assert.equal(result, 'scaled deployment/web');
    } finally {
      await workerConnection.close();
    }

    // Then the start call, the workflow run and the activity are spans of one trace
    const spans = exporter.getFinishedSpans();
    const named = (name: string) => {
      const span = spans.find((s) => s.name === name);
      assert.ok(span, `a ${name} span among ${spans.map((s) => s.name).join(', ')}`);
      return span;
    };
    const start = named('StartWorkflow:tracedRemediation');
    const run = named('RunWorkflow:tracedRemediation');
    const activity = named('RunActivity:scaleTarget');
    const traceId = start.spanContext().traceId;
    assert.equal(run.spanContext().traceId, traceId);
    assert.equal(activity.spanContext().traceId, traceId);
    assert.equal(run.resource.attributes['service.name'], 'kubemedic-test');

    // And the activity's log line carries that trace and the activity's span
    const line = lines.find((l) => l.msg === 'scaling target' && l.trace_id === traceId);
    assert.ok(
      line,
      `the activity's line among ${JSON.stringify(lines.filter((l) => l.msg === 'scaling target'))}`,
    );
    assert.equal(line.span_id, activity.spanContext().spanId);
    assert.equal(line.process, 'worker');
  }

  it(
    'gives the start, the workflow and its activity one trace, and the activity log line its id',
    { timeout: 300_000 },
    () => checkTracedRun({ workflowsPath }),
  );

  it(
    'does the same from a prebuilt bundle holding the workflow interceptors, as the built worker loads',
    { timeout: 300_000 },
    async () => {
      // As worker/build.ts builds workflow-bundle-tracing.js
      const { code } = await bundleWorkflowCode({
        workflowsPath,
        workflowInterceptorModules: tracingWorkflowModules,
      });
      await checkTracedRun({ workflowBundle: { code } });
    },
  );
});

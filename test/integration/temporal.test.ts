/**
 * Proof that the local Temporal is real: a workflow with one activity completes on the dev
 * server, a second worker replays its history, and a changed workflow fails that replay.
 * The dev server also carries KubeMedic's custom search attributes.
 */
import { Client, Connection } from '@temporalio/client';
import { DeterminismViolationError } from '@temporalio/workflow';
import { NativeConnection, Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { environment } from '../../devstack/stack.ts';
import { searchAttributes } from '../../domain/search-attributes.ts';
import * as activities from '../fixtures/stack-proof/activities.ts';
import { ensureStack } from '../support/stack.ts';

const workflowsPath = fileURLToPath(new URL('../fixtures/stack-proof/workflows.ts', import.meta.url));
const changedWorkflowsPath = fileURLToPath(
  new URL('../fixtures/stack-proof/workflows-changed.ts', import.meta.url),
);

describe('the local Temporal dev server', () => {
  let connection: Connection;
  let client: Client;
  before(async () => {
    await ensureStack();
    connection = await Connection.connect({ address: environment().TEMPORAL_ADDRESS });
    client = new Client({ connection, namespace: environment().TEMPORAL_NAMESPACE });
  });
  after(async () => connection?.close());

  it(
    'runs a workflow with one activity, and a second worker replays its history',
    { timeout: 120_000 },
    async () => {
      // Given a worker on a task queue of its own
      const taskQueue = `stack-proof-${randomUUID()}`;
      const workerConnection = await NativeConnection.connect({ address: environment().TEMPORAL_ADDRESS });
      try {
        const worker = await Worker.create({
          connection: workerConnection,
          taskQueue,
          workflowsPath,
          activities,
        });
        // When a workflow runs to completion
        const workflowId = `stack-proof/${randomUUID()}`;
        const result = await worker.runUntil(
          client.workflow.execute('greeting', { taskQueue, workflowId, args: ['kubemedic'] }),
        );
        // Then it returned the activity's result
        assert.equal(result, 'hello, kubemedic');
        // And its history replays on a second worker without a determinism error
        const history = await client.workflow.getHandle(workflowId).fetchHistory();
        await Worker.runReplayHistory({ workflowsPath }, history, workflowId);
        // While a workflow of another shape fails that replay
        await assert.rejects(
          Worker.runReplayHistory({ workflowsPath: changedWorkflowsPath }, history, workflowId),
          DeterminismViolationError,
        );
      } finally {
        await workerConnection.close();
      }
    },
  );

  it('has every KubeMedic search attribute registered as a Keyword', async () => {
    const registered = await connection.operatorService.listSearchAttributes({
      namespace: environment().TEMPORAL_NAMESPACE,
    });
    for (const key of Object.values(searchAttributes)) {
      assert.ok(registered.customAttributes?.[key.name] !== undefined, `${key.name} is registered`);
      // 2 is INDEXED_VALUE_TYPE_KEYWORD in temporal.api.enums.v1.IndexedValueType
      assert.equal(registered.customAttributes?.[key.name], 2, `${key.name} is a Keyword`);
    }
  });
});

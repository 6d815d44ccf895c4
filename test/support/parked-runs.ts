/**
 * Remediation runs started as the watcher starts them (workflow type, ID, search attributes) on a
 * task queue no worker polls: they stay Pending, so CLI tests can find, list and watch runs on
 * the real Temporal server without a worker, a policy or a cluster object. Terminated by `after`.
 */
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { after, before } from 'node:test';
import { environment } from '../../devstack/stack.ts';
import { taskQueueFor } from '../../domain/config/names.ts';
import { remediationWorkflowId, remediationWorkflowType, type TargetRef } from '../../domain/run.ts';
import { searchAttributes } from '../../domain/search-attributes.ts';
import { ensureStack } from './stack.ts';

export interface ParkedRuns {
  client: Client;
  /** A run of `policy` (a RemediationPolicy with a namespace, else a cluster policy) on `target`. */
  park(
    cluster: string,
    target: TargetRef,
    policy: { namespace?: string; name: string },
  ): Promise<WorkflowHandle>;
  /** Waits until visibility lists `count` runs of the cluster (it is eventually consistent). */
  listed(cluster: string, count: number): Promise<void>;
}

export function useParkedRuns(): ParkedRuns {
  let connection: Connection | undefined;
  const started: WorkflowHandle[] = [];
  const runs = {} as ParkedRuns;
  before(async () => {
    await ensureStack();
    connection = await Connection.connect({ address: environment().TEMPORAL_ADDRESS });
    runs.client = new Client({ connection, namespace: environment().TEMPORAL_NAMESPACE });
  });
  after(async () => {
    await Promise.allSettled(started.map((h) => h.terminate('the CLI test is done')));
    await connection?.close();
  });
  runs.park = async (cluster, target, policy) => {
    const kind = policy.namespace ? 'RemediationPolicy' : 'ClusterRemediationPolicy';
    const handle = await runs.client.workflow.start(remediationWorkflowType, {
      taskQueue: taskQueueFor(cluster),
      workflowId: remediationWorkflowId(cluster, target, { kind, ...policy }),
      args: [{}],
      typedSearchAttributes: [
        { key: searchAttributes.cluster, value: cluster },
        {
          key: searchAttributes.policy,
          value: policy.namespace ? `${policy.namespace}/${policy.name}` : policy.name,
        },
        { key: searchAttributes.targetKind, value: target.kind },
        { key: searchAttributes.targetName, value: target.name },
        { key: searchAttributes.phase, value: 'Pending' },
        { key: searchAttributes.action, value: 'Scale' },
        ...(target.namespace ? [{ key: searchAttributes.namespace, value: target.namespace }] : []),
      ],
    });
    started.push(handle);
    return handle;
  };
  runs.listed = async (cluster, count) => {
    const deadline = Date.now() + 30_000;
    const query = `${searchAttributes.cluster.name} = '${cluster}'`;
    while ((await runs.client.workflow.count(query)).count < count) {
      if (Date.now() > deadline) throw new Error(`the ${count} runs of ${cluster} never became visible`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  };
  return runs;
}

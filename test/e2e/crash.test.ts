/**
 * Crash recovery: the worker process is killed with SIGKILL while an action is executing; a new
 * worker process picks the run up, and the action takes effect exactly once.
 */
import { BatchV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { managedLabel } from '../../activities/actions/run-job.ts';
import type { remediation } from '../../workflows/remediation.ts';
import { externalJobController, finishJob } from '../support/jobs.ts';
import { createPolicy, spawnWorkerProcess, startRunNow, useKubeMedic } from '../support/kubemedic.ts';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';
import { createDeployment } from '../support/workloads.ts';

const namespace = useTestNamespace('kmc');
const medic = useKubeMedic({ inProcessWorker: false });
const managedJobs = async () =>
  (
    await kubeconfig()
      .makeApiClient(BatchV1Api)
      .listNamespacedJob({ namespace: namespace.name, labelSelector: `${managedLabel}=true` })
  ).items;

it(
  'completes a run whose worker was killed during execute, applying the action once',
  { timeout: 180_000 },
  async () => {
    // Given a RunJob remediation whose Job only finishes when the test says so, on a worker process
    await createDeployment(namespace.name, 'ledger', 1);
    const metadata = { name: 'reindex', namespace: namespace.name };
    await createPolicy('RemediationPolicy', metadata, {
      target: { kind: 'Deployment', name: 'ledger' },
      conditions: [
        {
          name: 'unavailable',
          source: 'Kubernetes',
          kubernetes: { state: 'DeploymentUnavailable' },
          threshold: 0,
        },
      ],
      actions: [
        {
          type: 'RunJob',
          runJob: {
            timeout: '5m',
            template: {
              managedBy: externalJobController,
              template: {
                spec: {
                  restartPolicy: 'Never',
                  containers: [{ name: 'reindex', image: 'example.com/reindex:1' }],
                },
              },
            },
          },
        },
      ],
      verification: { settle: '1s', conditions: [], onNoData: 'Pass' },
      cooldown: '1s',
    });
    const first = spawnWorkerProcess(medic.cluster);
    const { workflowId } = await startRunNow(medic, metadata, {
      kind: 'Deployment',
      namespace: namespace.name,
      name: 'ledger',
    });

    // When the worker is killed with SIGKILL while the action waits for its Job
    const [job] = await eventually('the Job to be created', async () =>
      (await managedJobs()).length > 0 ? managedJobs() : undefined,
    );
    first.kill('SIGKILL');
    // And a new worker process starts, and the Job then completes
    spawnWorkerProcess(medic.cluster);
    await finishJob(namespace.name, job!.metadata!.name!, 'Complete');

    // Then the run completes on the new worker
    const result = await medic.client.workflow.getHandle<typeof remediation>(workflowId).result();
    assert.equal(result.outcome, 'Succeeded', result.reason);
    // And the action took effect once: one Job, although the execute activity ran more than once
    assert.deepEqual(
      (await managedJobs()).map((j) => j.metadata?.name),
      [job!.metadata!.name],
    );
    const history = await medic.client.workflow.getHandle(workflowId).fetchHistory();
    const executeAttempts = (history.events ?? [])
      .filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
    assert.ok(
      Math.max(...executeAttempts) >= 2,
      `an activity was retried after the crash (attempts ${executeAttempts})`,
    );
  },
);

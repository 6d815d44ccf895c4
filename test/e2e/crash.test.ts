/**
 * Crash recovery: the worker process is killed with SIGKILL while an action is executing; a new
 * worker process picks the run up, and the action takes effect exactly once.
 */
import { BatchV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { it } from 'node:test';
import { managedLabel } from '../../activities/actions/run-job.ts';
import { externalJobController, finishJob } from '../support/jobs.ts';
import { spawnWorkerProcess } from '../support/kubemedic.ts';
import { conditions, deploymentPolicy } from '../support/policy-builder.ts';
import { useScenario } from '../support/scenario.ts';
import { eventually, kubeconfig } from '../support/stack.ts';

const { namespace, medic, scenario } = useScenario('kmc', { inProcessWorker: false });
const managedJobs = async () =>
  (
    await kubeconfig()
      .makeApiClient(BatchV1Api)
      .listNamespacedJob({ namespace: namespace.name, labelSelector: `${managedLabel}=true` })
  ).items;

/** The identity the SDK gives a worker by default, as the history records it. */
const identityOf = (pid: number | undefined) => `${pid}@${hostname()}`;

it(
  'completes a run whose worker was killed during execute, applying the action once',
  { timeout: 180_000 },
  async (t) => {
    const s = scenario(t);
    // Given a RunJob remediation whose Job only finishes when the test says so, on a worker process
    await s.given.deployment('ledger', 1);
    await s.given.policy(
      'reindex',
      deploymentPolicy('ledger', {
        conditions: [conditions.deploymentUnavailable('unavailable', 1)],
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
      }),
    );
    const first = await spawnWorkerProcess(medic.cluster);
    const firstExit = once(first, 'exit');
    await s.when.runStarts();

    // When the worker is killed with SIGKILL while the action waits for its Job
    const [job] = await eventually('the Job to be created', async () =>
      (await managedJobs()).length > 0 ? managedJobs() : undefined,
    );
    assert.equal(first.exitCode, null, 'the first worker was still running when the Job appeared');
    first.kill('SIGKILL');
    // (the kill happened: the process ended by SIGKILL, not on its own)
    const [code, signal] = await firstExit;
    assert.deepEqual({ code, signal }, { code: null, signal: 'SIGKILL' });
    // And a new worker process starts, and the Job then completes
    const second = await spawnWorkerProcess(medic.cluster);
    await finishJob(namespace.name, job!.metadata!.name!, 'Complete');

    // Then the run completes on the new worker
    await s.then.runEndsAs('Succeeded');
    // And the action took effect once: one Job, although the execute activity ran more than once
    assert.deepEqual(
      (await managedJobs()).map((j) => j.metadata?.name),
      [job!.metadata!.name],
    );
    const events = (await s.run.fetchHistory()).events ?? [];
    const executeStarts = events
      .map((e) => e.activityTaskStartedEventAttributes)
      .filter((started) => started !== undefined && started !== null);
    const executeAttempts = executeStarts.map((started) => started.attempt ?? 1);
    assert.ok(
      Math.max(...executeAttempts) >= 2,
      `an activity was retried after the crash (attempts ${executeAttempts})`,
    );
    // And the history shows the hand-over: workflow tasks from the killed worker, and the retried
    // activity's last attempt on the new one
    const workflowTaskIdentities = new Set(
      events.map((e) => e.workflowTaskStartedEventAttributes?.identity).filter(Boolean),
    );
    assert.ok(
      workflowTaskIdentities.has(identityOf(first.pid)),
      `the killed worker ran workflow tasks (${[...workflowTaskIdentities]})`,
    );
    const retried = executeStarts.find((started) => (started.attempt ?? 1) >= 2);
    assert.equal(retried?.identity, identityOf(second.pid), 'the retried attempt ran on the new worker');
  },
);

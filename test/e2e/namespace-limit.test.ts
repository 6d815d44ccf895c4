/**
 * Max concurrent per namespace: runs of different policies in one namespace share its governor,
 * so with a limit of 1 the second run waits for the first to finish before it acts.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { governorStatusQuery, namespaceGovernorId } from '../../domain/governor.ts';
import { createPolicy, deploymentUnavailable, startRunNow, useKubeMedic } from '../support/kubemedic.ts';
import { useTestNamespace } from '../support/stack.ts';
import { createAvailableDeployment } from '../support/workloads.ts';

const namespace = useTestNamespace('kmn');
const medic = useKubeMedic({ workerOptions: { maxConcurrentPerNamespace: 1 } });

it('lets one run act at a time in a namespace whose limit is 1', { timeout: 90_000 }, async () => {
  // Given two policies on two Deployments of one namespace
  const start = async (name: string) => {
    await createAvailableDeployment(namespace.name, name, 1);
    await createPolicy(
      'RemediationPolicy',
      { name, namespace: namespace.name },
      {
        target: { kind: 'Deployment', name },
        conditions: [deploymentUnavailable('unavailable', 1)],
        actions: [{ type: 'Scale', scale: { replicas: 2 } }],
        verification: { settle: '4s' },
        cooldown: '1s',
      },
    );
    return startRunNow(
      medic,
      { name, namespace: namespace.name },
      { kind: 'Deployment', namespace: namespace.name, name },
    );
  };
  // When both start at once
  const runs = await Promise.all([start('first'), start('second')]);
  // Then, sampled until both end, at most one holds the namespace's permit and the other queues
  const governor = medic.client.workflow.getHandle(namespaceGovernorId(medic.cluster, namespace.name));
  let peak = 0;
  let queuedSeen = 0;
  let done = false;
  const results = Promise.all(runs.map((run) => run.result())).finally(() => (done = true));
  while (!done) {
    const status = await governor.query(governorStatusQuery).catch(() => undefined);
    peak = Math.max(peak, status?.active.length ?? 0);
    queuedSeen = Math.max(queuedSeen, status?.queued ?? 0);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 200));
  }
  for (const result of await results) assert.equal(result.outcome, 'Succeeded', result.reason);
  assert.equal(peak, 1);
  assert.equal(queuedSeen, 1, 'the second run waited in the queue');
});

/**
 * Max concurrent per namespace: runs of different policies in one namespace share its governor,
 * so with a limit of 1 the second run waits for the first to finish before it acts.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { governorStatusQuery, namespaceGovernorId } from '../../domain/governor.ts';
import { conditions, deploymentPolicy, scale } from '../support/policy-builder.ts';
import { type Scenario, useScenario } from '../support/scenario.ts';

const { namespace, medic, scenario } = useScenario('kmn', {
  workerOptions: { maxConcurrentPerNamespace: 1 },
});

/** An Available Deployment `name` of 1 under a policy `name` that scales it to 2. */
async function givenScaleTo2(s: Scenario, name: string) {
  await s.given.availableDeployment(name, 1);
  await s.given.policy(
    name,
    deploymentPolicy(name, {
      conditions: [conditions.deploymentUnavailable('unavailable', 1)],
      actions: [scale({ replicas: 2 })],
      verification: { settle: '4s' },
    }),
  );
}

it('lets one run act at a time in a namespace whose limit is 1', { timeout: 90_000 }, async (t) => {
  // Given two policies on two Deployments of one namespace
  const [first, second] = [scenario(t), scenario(t)];
  await Promise.all([givenScaleTo2(first, 'first'), givenScaleTo2(second, 'second')]);
  // When both start at once
  await Promise.all([first.when.runStarts(), second.when.runStarts()]);
  // Then, sampled until both end, at most one holds the namespace's permit and the other queues
  const governor = medic.client.workflow.getHandle(namespaceGovernorId(medic.cluster, namespace.name));
  let peak = 0;
  let queuedSeen = 0;
  let done = false;
  const ended = Promise.all([first.then.runEndsAs('Succeeded'), second.then.runEndsAs('Succeeded')]).finally(
    () => (done = true),
  );
  while (!done) {
    const status = await governor.query(governorStatusQuery).catch(() => undefined);
    peak = Math.max(peak, status?.active.length ?? 0);
    queuedSeen = Math.max(queuedSeen, status?.queued ?? 0);
    await sleep(200);
  }
  await ended;
  assert.equal(peak, 1);
  assert.equal(queuedSeen, 1, 'the second run waited in the queue');
});

/**
 * Kubernetes-state conditions end to end on the real stack: the real watcher reads Pod and
 * Deployment state from its informers, holds each condition for its `for`, and starts the real
 * workflow on a real worker, which acts and verifies against the API server.
 *
 * Crash-looping Pods are faked: KWOK does not restart containers, so the Pods carry
 * `kwok.x-k8s.io/status: custom` (KWOK then leaves them alone) and the test writes their status
 * as a kubelet would. KWOK also leaves their deletion alone: a deleted one stays Terminating
 * until someone finalizes it, so the test plays the kubelet there too — it marks the container
 * terminated once the Pod is deleted, and removes the Pod with gracePeriodSeconds 0 afterwards
 * (what a kubelet does once its containers have stopped).
 */
import { CoreV1Api, CustomObjectsApi, type V1ContainerStatus, type V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fakeNodeNames } from '../../devstack/fake-nodes.ts';
import { kwokCustomStatusAnnotation } from '../../devstack/servers.ts';
import { group, policyKinds, version } from '../../api/policy.ts';
import { readPolicy } from '../support/kubemedic.ts';
import { deploymentPolicy, type PolicySpecInput, scale } from '../support/policy-builder.ts';
import { type Scenario, useScenario } from '../support/scenario.ts';
import { eventually, kubeconfig } from '../support/stack.ts';

const { namespace, scenario } = useScenario('kmk');
const core = () => kubeconfig().makeApiClient(CoreV1Api);

// Custom-status Pods are never finalized by KWOK: remove what a failed test leaves, or the
// namespace would stay Terminating.
after(async () => {
  if (!namespace.name) return;
  const pods = await core().listNamespacedPod({ namespace: namespace.name });
  for (const pod of pods.items) await forceDelete(pod.metadata!.name!).catch(() => undefined);
});

const forceDelete = (name: string) =>
  core().deleteNamespacedPod({ name, namespace: namespace.name, gracePeriodSeconds: 0 });

const readPod = (name: string) => core().readNamespacedPod({ name, namespace: namespace.name });

/** A standalone Pod on a KWOK node whose status only the test writes. */
async function createCustomStatusPod(name: string): Promise<V1Pod> {
  return core().createNamespacedPod({
    namespace: namespace.name,
    body: {
      metadata: { name, labels: { app: name }, annotations: { [kwokCustomStatusAnnotation]: 'custom' } },
      spec: { nodeName: fakeNodeNames[0], containers: [{ name: 'app', image: 'example.com/app:1' }] },
    },
  });
}

const containerStatus = (state: V1ContainerStatus['state']): V1ContainerStatus => ({
  name: 'app',
  image: 'example.com/app:1',
  imageID: '',
  ready: false,
  started: false,
  restartCount: 5,
  lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: new Date() } },
  state,
});

async function writePodStatus(name: string, phase: string, state: V1ContainerStatus['state']) {
  await core().patchNamespacedPodStatus({
    name,
    namespace: namespace.name,
    body: [
      { op: 'add', path: '/status/phase', value: phase },
      { op: 'add', path: '/status/containerStatuses', value: [containerStatus(state)] },
    ],
  });
}

/** Puts the Pod's container in CrashLoopBackOff; answers when, measured just before the write. */
async function crashLoop(name: string): Promise<number> {
  const at = Date.now();
  await writePodStatus(name, 'Running', {
    waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' },
  });
  return at;
}

/**
 * The kubelet's part once RestartPod has deleted the Pod: the container is stopped (so it is no
 * longer in CrashLoopBackOff). The Pod object stays, Terminating, until `forceDelete`.
 */
async function stopContainersWhenDeleted(name: string, uid: string): Promise<void> {
  await eventually(`${name} deleted by RestartPod`, async () => {
    const pod = await readPod(name);
    assert.equal(pod.metadata?.uid, uid, 'the same Pod, not a replacement');
    return pod.metadata?.deletionTimestamp ? true : undefined;
  });
  await writePodStatus(name, 'Failed', {
    terminated: { exitCode: 137, reason: 'Error', finishedAt: new Date() },
  });
}

const crashLoopPolicy = (pod: string, forDuration: string): PolicySpecInput => ({
  target: { kind: 'Pod', name: pod },
  evaluationInterval: '1s',
  conditions: [
    {
      name: 'crashing',
      source: 'Kubernetes',
      kubernetes: { state: 'CrashLoopBackOff' },
      operator: '>=',
      threshold: 1,
      for: forDuration,
    },
  ],
  actions: [{ type: 'RestartPod' }],
  // Verification re-reads the trigger condition on the (Terminating) Pod after the settle.
  verification: { settle: '5s' },
  cooldown: '1s',
});

const deletePolicy = (name: string) =>
  kubeconfig().makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({
    group,
    version,
    plural: policyKinds.RemediationPolicy.plural,
    namespace: namespace.name,
    name,
  });

/** A custom-status Pod `name`, and the policy restart-<name> that restarts it after `forDuration`. */
async function givenRestartPolicyOnPod(s: Scenario, name: string, forDuration: string): Promise<V1Pod> {
  const pod = await createCustomStatusPod(name);
  await s.given.existing({ kind: 'Pod', namespace: namespace.name, name });
  await s.given.policy(`restart-${name}`, crashLoopPolicy(name, forDuration));
  return pod;
}

describe('a Pod in CrashLoopBackOff', () => {
  it(
    'is restarted by the watcher once it has crash-looped for `for`, and verified',
    { timeout: 120_000 },
    async (t) => {
      const s = scenario(t);
      // Given a Pod on a KWOK node under a policy that restarts it after 2s of CrashLoopBackOff
      const pod = await givenRestartPolicyOnPod(s, 'crashy', '2s');
      await s.given.watcher();

      // When its container goes into CrashLoopBackOff
      const crashedAt = await crashLoop('crashy');

      // Then, no sooner than 2s later, the watcher starts a run with the reading that fired
      const run = await s.then.watcherStartsRun();
      assert.ok(
        run.startTime.getTime() >= crashedAt + 2_000,
        `the run started ${run.startTime.getTime() - crashedAt}ms after the crash loop began, before its for of 2s`,
      );
      assert.deepEqual((await s.then.triggeredBy()).readings, [{ name: 'crashing', value: 1, holds: true }]);

      // And RestartPod deletes that Pod; its container stops, as a kubelet would report
      await stopContainersWhenDeleted('crashy', pod.metadata!.uid!);

      // And verification finds it no longer crash-looping: the run succeeds
      const result = await s.then.runEndsAs(
        'Succeeded',
        new RegExp(
          `^deleted Pod ${namespace.name}/crashy \\(uid ${pod.metadata!.uid}\\).*; verified: conditions no longer hold: crashing=0$`,
        ),
      );
      assert.deepEqual(result.steps[0]?.verdict?.readings, [{ name: 'crashing', value: 0, holds: false }]);
      await s.then.policyRecords('Succeeded');

      // And the Pod, finalized as its kubelet would, is gone
      await forceDelete('crashy');
      await eventually('crashy gone', async () =>
        (await core().listNamespacedPod({ namespace: namespace.name, fieldSelector: 'metadata.name=crashy' }))
          .items.length === 0
          ? true
          : undefined,
      );
    },
  );

  it(
    'is not restarted before the condition has held for its whole `for`',
    { timeout: 120_000 },
    async (t) => {
      const s = scenario(t);
      // Given a Pod under a policy with a `for` of 20s, and the watcher (the file's) evaluating it
      const pod = await givenRestartPolicyOnPod(s, 'slow-crash', '20s');
      await eventually('the policy to be evaluated', async () => {
        const status = (
          await readPolicy('RemediationPolicy', { name: 'restart-slow-crash', namespace: namespace.name })
        ).status;
        return status?.matchedTargets === 1 ? true : undefined;
      });

      // When its container goes into CrashLoopBackOff
      const crashedAt = await crashLoop('slow-crash');

      // Then 5s later (several evaluations at 1s) there is still no run, and the Pod is untouched
      await sleep(Math.max(0, crashedAt + 5_000 - Date.now()));
      await s.then.noRun('no run 5s into a for of 20s');
      assert.equal((await readPod('slow-crash')).metadata?.deletionTimestamp, undefined);

      // And a run starts once 20s have passed, not before
      const run = await s.then.watcherStartsRun();
      assert.ok(
        run.startTime.getTime() >= crashedAt + 20_000,
        `the run started ${run.startTime.getTime() - crashedAt}ms after the crash loop began, before its for of 20s`,
      );
      await stopContainersWhenDeleted('slow-crash', pod.metadata!.uid!);
      await s.then.runEndsAs('Succeeded');
      await forceDelete('slow-crash');
    },
  );
});

describe('a Pod that starts crash-looping under a policy evaluated every 5 minutes', () => {
  it(
    'starts a run at once, from the watch event, not at the next interval',
    { timeout: 180_000 },
    async (t) => {
      const s = scenario(t);
      // Given a Pod under a policy evaluated every 5m, whose condition fires as soon as it holds
      await createCustomStatusPod('eager');
      await s.given.existing({ kind: 'Pod', namespace: namespace.name, name: 'eager' });
      await s.given.policy('restart-eager', {
        ...crashLoopPolicy('eager', '0s'),
        evaluationInterval: '5m',
        approval: { required: true, timeout: '1h' },
      });
      await s.given.watcher();
      // And the watcher has evaluated it once, with nothing to do: the next interval tick is 5m away
      const evaluatedAt = await eventually('the first evaluation', async () => {
        const status = (
          await readPolicy('RemediationPolicy', { name: 'restart-eager', namespace: namespace.name })
        ).status;
        return status?.matchedTargets === 1 ? Date.parse(String(status.lastEvaluationTime)) : undefined;
      });
      await s.then.noRun('no run while the Pod is healthy');

      // When its container goes into CrashLoopBackOff
      const crashedAt = await crashLoop('eager');

      // Then a run starts, within the 5m the interval alone would take (the wait gives up at 2m)
      const run = await s.then.watcherStartsRun(120_000);
      const startedAt = run.startTime.getTime();
      assert.ok(startedAt >= crashedAt, 'the run started after the crash loop began');
      assert.ok(
        startedAt < evaluatedAt + 5 * 60_000,
        `the run started ${startedAt - evaluatedAt}ms after the first evaluation: at the interval, not at the event`,
      );
      assert.deepEqual((await s.then.triggeredBy()).readings, [{ name: 'crashing', value: 1, holds: true }]);
      // (The run waits for an approval nobody gives: what a run does next is other tests' subject.)
      await s.when.cancelledBy('e2e', 'started by the event; nothing more to see');
      await forceDelete('eager');
    },
  );
});

describe('a Deployment whose Pods cannot be scheduled', () => {
  it(
    'is scaled by the watcher, and rolled back when its Pods stay Pending',
    { timeout: 120_000 },
    async (t) => {
      const s = scenario(t);
      // Given a Deployment of 2 whose Pods select a node label no node has, so they stay Pending
      await s.given.deployment('unplaceable', 2, {
        podSpec: { nodeSelector: { 'kubemedic.io/e2e-no-such-node': namespace.name } },
      });

      // When a policy scales it to 3 while any of its Pods is Pending for 1s
      await s.given.policy(
        'scale-unplaceable',
        deploymentPolicy('unplaceable', {
          evaluationInterval: '1s',
          conditions: [
            {
              name: 'pending',
              source: 'Kubernetes',
              kubernetes: { state: 'PodPending' },
              operator: '>=',
              threshold: 1,
              for: '1s',
            },
          ],
          actions: [scale({ replicas: 3 })],
          verification: { settle: '2s' },
          cooldown: '3s',
        }),
      );

      // Then the watcher starts a run for the Pending Pods
      await s.then.watcherStartsRun();
      const [trigger] = (await s.then.triggeredBy()).readings;
      assert.equal(trigger?.name, 'pending');
      assert.ok(trigger.holds && trigger.value !== null && trigger.value >= 1, JSON.stringify(trigger));

      // And the run scales to 3, finds all 3 Pods still Pending, and restores exactly 2. (Once it
      // cools down the Pods still Pending would fire again: the policy goes before that.)
      await s.then.runReaches('CoolingDown');
      await s.then.policyRecords('RolledBack');
      await deletePolicy('scale-unplaceable');
      const result = await s.then.runEndsAs('RolledBack');
      const [step] = result.steps;
      assert.equal(step?.action, 'Scale');
      assert.deepEqual(step?.backup?.fields, { '/spec/replicas': 2 });
      assert.match(step?.executed?.summary ?? '', /2 to 3/);
      assert.deepEqual(step?.verdict?.readings, [{ name: 'pending', value: 3, holds: true }]);
      assert.equal(step?.rollback?.outcome, 'RolledBack', step?.rollback?.reason);
      await s.then.replicasAre(2);
    },
  );
});

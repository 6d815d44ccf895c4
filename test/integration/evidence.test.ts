/**
 * Evidence before destruction (issue 11), on the real API server: RestartPod's backup keeps the
 * pod's status, Events and last logs before the eviction. KWOK's pods have no kubelet behind
 * them, so their logs cannot be read: the evidence says so ("logs unavailable: <reason>") and
 * the backup goes on. The size bound is checked on evidence made up to exceed it.
 */
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { restartPod } from '../../activities/actions/restart-pod.ts';
import { drainNode } from '../../activities/actions/drain-node.ts';
import { useTestNodes } from '../support/test-nodes.ts';
import { eventually } from '../support/stack.ts';
import { boundedEvidence, captureEvidence } from '../../activities/actions/evidence.ts';
import { type Evidence, evidenceBounds, type PodEvidence } from '../../domain/evidence.ts';
import { kubeconfig, useTestNamespace } from '../support/stack.ts';
import { actionContext, createDeployment, waitForRunningPods } from '../support/workloads.ts';

const namespace = useTestNamespace('kmt-evidence');
const testNodes = useTestNodes('kmt-evidence-node');
const core = () => kubeconfig().makeApiClient(CoreV1Api);

describe('evidence kept before a pod is removed', () => {
  let pod: V1Pod;

  before(async () => {
    // Given a Deployment's Running pod, and a Warning Event about it as its kubelet would write
    await createDeployment(namespace.name, 'web', 1);
    await waitForRunningPods(namespace.name, 'web', 1);
    [pod] = (await core().listNamespacedPod({ namespace: namespace.name, labelSelector: 'app=web' }))
      .items as [V1Pod];
    await core().createNamespacedEvent({
      namespace: namespace.name,
      body: {
        metadata: { name: `${pod.metadata!.name}.backoff` },
        involvedObject: {
          kind: 'Pod',
          namespace: namespace.name,
          name: pod.metadata!.name,
          uid: pod.metadata!.uid,
        },
        type: 'Warning',
        reason: 'BackOff',
        message: 'Back-off restarting failed container app',
        count: 7,
        lastTimestamp: new Date(),
        source: { component: 'kubelet' },
      },
    });
  });

  it("RestartPod's backup holds the pod's status and Events, and says why its logs are missing", async (t) => {
    // When RestartPod backs up the Deployment
    const backup = await restartPod.backup(
      actionContext(),
      { kind: 'Deployment', namespace: namespace.name, name: 'web' },
      { type: 'RestartPod' },
    );
    // Then the evidence describes the pod it will evict
    const evidence = backup.evidence;
    assert.ok(evidence, 'the backup has evidence');
    assert.equal(evidence.omittedPods, 0);
    const [described] = evidence.pods;
    assert.ok(described, 'one pod described');
    assert.equal(described.name, pod.metadata!.name);
    assert.equal(described.uid, backup.fields['/metadata/uid']);
    assert.equal(described.phase, 'Running');
    assert.equal(described.node, pod.spec!.nodeName);
    // And its Events: the scheduler's, and the kubelet's warning
    assert.ok(
      described.events.some(
        (e) =>
          e.type === 'Warning' &&
          e.reason === 'BackOff' &&
          e.message === 'Back-off restarting failed container app' &&
          e.count === 7,
      ),
      JSON.stringify(described.events),
    );
    // And its container, whose log KWOK cannot give: the reason is kept, not a made-up log
    const [container] = described.containers;
    assert.equal(container?.name, 'app');
    assert.equal(container.logOf, 'current');
    assert.equal(container.log, undefined);
    assert.match(container.logUnavailable ?? '', /^logs unavailable: \S/);
    // (not for want of rights: the admin asked; the kubelet is what is missing)
    assert.doesNotMatch(container.logUnavailable ?? '', /forbidden/i);
    t.diagnostic(`KWOK's answer: ${container.logUnavailable}`);
  });

  it("a crash-looping container's evidence is its previous instance's log, and how it ended", async () => {
    // Given the pod as its kubelet reports a crash loop
    const crashing: V1Pod = {
      ...pod,
      status: {
        ...pod.status,
        containerStatuses: [
          {
            name: 'app',
            image: 'example.com/app:1',
            imageID: '',
            ready: false,
            restartCount: 5,
            lastState: { terminated: { exitCode: 1, reason: 'Error' } },
            state: {
              waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' },
            },
          },
        ],
      },
    };
    // When its evidence is captured
    const { pods } = await captureEvidence(actionContext(), [crashing]);
    // Then the previous log is asked for, and the states say what happened
    const container = pods[0]?.containers[0];
    assert.equal(container?.logOf, 'previous');
    assert.equal(container.restartCount, 5);
    assert.equal(container.state, 'waiting: CrashLoopBackOff (back-off 5m0s restarting failed container)');
    assert.equal(container.lastState, 'terminated: Error (exit 1)');
    assert.match(container.logUnavailable ?? '', /^logs unavailable: /);
  });

  it("DrainNode's backup holds the pods it would evict, before it cordons anything", async () => {
    // Given a node of this test's own with two pods of a Deployment on it
    const node = await testNodes.create();
    await createDeployment(namespace.name, 'drained', 2, {
      nodeSelector: { 'kubernetes.io/hostname': node },
      tolerations: [{ key: 'kubemedic.io/test-node', operator: 'Equal', value: node, effect: 'NoSchedule' }],
    });
    const onNode = await eventually('two Running pods on the node', async () => {
      const pods = (await core().listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items;
      return pods.filter((p) => p.status?.phase === 'Running').length === 2 ? pods : undefined;
    });
    // When DrainNode backs it up
    const backup = await drainNode.backup(
      actionContext(),
      { kind: 'Node', name: node },
      { type: 'DrainNode', drainNode: { timeout: '1m' } },
    );
    // Then the node is untouched and both pods are described, each on that node
    assert.equal(backup.fields['/spec/unschedulable'], null);
    assert.deepEqual(
      backup.evidence?.pods.map((p) => [p.name, p.node]).sort(),
      onNode.map((p) => [p.metadata!.name, node]).sort(),
    );
  });

  it(`stays under ${evidenceBounds.totalBytes / 1024} KiB, dropping the last pods' logs first`, () => {
    // Given evidence of as many pods as are described, each container with a full log
    const log = 'x'.repeat(evidenceBounds.logBytes - 1) + '\n';
    const podEvidence = (i: number): PodEvidence => ({
      namespace: 'shop',
      name: `web-${i}`,
      uid: `${i}`,
      phase: 'Running',
      conditions: [],
      events: [],
      containers: ['app', 'sidecar'].map((name) => ({
        name,
        ready: true,
        restartCount: 0,
        state: 'running',
        logOf: 'current' as const,
        log,
      })),
    });
    const evidence: Evidence = {
      capturedAt: new Date().toISOString(),
      pods: Array.from({ length: evidenceBounds.pods }, (_, i) => podEvidence(i)),
      omittedPods: 3,
      bounds: evidenceBounds,
    };
    assert.ok(Buffer.byteLength(JSON.stringify(evidence)) > evidenceBounds.totalBytes, 'made to exceed');
    // When it is bounded
    const kept = boundedEvidence(evidence);
    // Then it fits, the first pods keep their logs and the last say why theirs are gone
    assert.ok(Buffer.byteLength(JSON.stringify(kept)) <= evidenceBounds.totalBytes);
    assert.equal(kept.pods[0]?.containers[0]?.log, log);
    const last = kept.pods.at(-1)?.containers.at(-1);
    assert.equal(last?.log, undefined);
    assert.match(last?.logUnavailable ?? '', /^logs unavailable: dropped to keep the evidence under 64 KiB$/);
  });
});

/**
 * Events written with a key are idempotent on the real API server: an activity retried after
 * its write (the same key) updates the Event it wrote instead of adding a second one. A run's
 * Events about its target are found the way kubectl finds an object's Events.
 */
import { AppsV1Api, CoreV1Api, EventsV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventName, recordEvent } from '../../domain/kube/events.ts';
import { recordRunEvents } from '../../domain/kube/policy-status.ts';
import type { PolicyRef, TargetRef } from '../../domain/run.ts';
import { kubeconfig, useTestNamespace } from '../support/stack.ts';
import { createDeployment } from '../support/workloads.ts';

const namespace = useTestNamespace('kmt-ev');

const listEvents = async (name: string) =>
  (
    await kubeconfig()
      .makeApiClient(CoreV1Api)
      .listNamespacedEvent({ namespace: namespace.name, fieldSelector: `involvedObject.name=${name}` })
  ).items;

describe('Events of a run step', () => {
  it('are written once per key, however often the write is retried', async () => {
    // Given a target
    const involved = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: namespace.name, name: 'web' };
    // When the same step's Event is written three times (a retried activity), and another step's once
    for (const attempt of [1, 2, 3]) {
      await recordEvent(
        kubeconfig(),
        involved,
        'Normal',
        'Verifying',
        `attempt ${attempt}`,
        'run-1/Verifying/0',
      );
    }
    await recordEvent(
      kubeconfig(),
      involved,
      'Warning',
      'RollingBack',
      'rolling back',
      'run-1/RollingBack/0',
    );
    // Then there are two Events: the retried one holds the last message, counted once
    const events = await listEvents('web');
    assert.deepEqual(
      events.map((e) => [e.metadata?.name, e.reason, e.message, e.count]).sort(),
      [
        [eventName(involved, 'run-1/RollingBack/0'), 'RollingBack', 'rolling back', 1],
        [eventName(involved, 'run-1/Verifying/0'), 'Verifying', 'attempt 3', 1],
      ].sort(),
    );
    // And another run's step of the same name gets its own Event
    await recordEvent(kubeconfig(), involved, 'Normal', 'Verifying', 'second run', 'run-2/Verifying/0');
    assert.equal((await listEvents('web')).length, 3);
  });

  it('have names the API server accepts even for the longest object names', () => {
    const name = 'a'.repeat(253);
    const derived = eventName({ apiVersion: 'v1', kind: 'Pod', namespace: 'x', name }, 'k');
    assert.ok(derived.length <= 253, `${derived.length} characters`);
    assert.match(derived, /^a{236}\.[0-9a-f]{16}$/);
  });
});

describe('Events of a run about its target', () => {
  const policy: Omit<PolicyRef, 'namespace'> = {
    kind: 'RemediationPolicy',
    name: 'p',
    uid: '00000000-0000-0000-0000-000000000001',
    generation: 1,
  };
  const core = () => kubeconfig().makeApiClient(CoreV1Api);
  // The controllers and the scheduler write Events about the same objects; only ours are compared.
  const ours = <E extends { source?: { component?: string }; reportingController?: string }>(list: {
    items: E[];
  }) => list.items.filter((e) => (e.source?.component ?? e.reportingController) === 'kubemedic');

  /** A run's phase Event about `target` (in this file's namespace), written as the workflow's activity writes it. */
  const recordPhase = (target: Omit<TargetRef, 'namespace'>, type: 'Normal' | 'Warning', reason: string) =>
    recordRunEvents(
      kubeconfig(),
      {
        policy: { ...policy, namespace: namespace.name },
        target: { ...target, namespace: namespace.name },
      },
      type,
      reason,
      `${reason} ${target.name}`,
      `run/${reason}/0`,
    );

  /**
   * Our Events as `kubectl describe <kind> <name>` lists them: by the object's name, namespace,
   * kind and uid (k8s.io/kubectl describe.searchEvents).
   */
  const describedEvents = async (kind: string, name: string, uid: string | undefined) =>
    ours(
      await core().listNamespacedEvent({
        namespace: namespace.name,
        fieldSelector: [
          `involvedObject.name=${name}`,
          `involvedObject.namespace=${namespace.name}`,
          `involvedObject.kind=${kind}`,
          `involvedObject.uid=${uid}`,
        ].join(','),
      }),
    );

  it('are shown by kubectl describe and kubectl events --for on a Deployment', async () => {
    // Given a Deployment, named in the run by kind, namespace and name only (no uid)
    const deployment = await createDeployment(namespace.name, 'described', 1);
    const uid = deployment.metadata?.uid;
    assert.ok(uid);
    // When the run records a phase
    await recordPhase({ kind: 'Deployment', name: 'described' }, 'Normal', 'Executing');
    // Then `kubectl describe deployment described` finds it
    assert.deepEqual(
      (await describedEvents('Deployment', 'described', uid)).map((e) => [e.reason, e.message]),
      [['Executing', 'Executing described']],
    );
    // And `kubectl events --for deployment/described`, which lists by kind, apiVersion and name
    const forDeployment = await core().listNamespacedEvent({
      namespace: namespace.name,
      fieldSelector:
        'involvedObject.kind=Deployment,involvedObject.apiVersion=apps/v1,involvedObject.name=described',
    });
    assert.equal(ours(forDeployment).length, 1);
    // And the events.k8s.io API names the Deployment as what the Event is about
    const regarding = await kubeconfig()
      .makeApiClient(EventsV1Api)
      .listNamespacedEvent({ namespace: namespace.name, fieldSelector: `regarding.uid=${uid}` });
    assert.deepEqual(
      ours(regarding).map((e) => ({ ...e.regarding })),
      [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: namespace.name, name: 'described', uid }],
    );
  });

  it("carry a Pod's uid and apiVersion v1", async () => {
    // Given a Pod
    const pod = await core().createNamespacedPod({
      namespace: namespace.name,
      body: {
        metadata: { name: 'crashing' },
        spec: { containers: [{ name: 'app', image: 'example.com/app:1' }] },
      },
    });
    // When the run records a phase about it
    await recordPhase({ kind: 'Pod', name: 'crashing' }, 'Warning', 'RollingBack');
    // Then `kubectl describe pod crashing` finds it, about a v1 object
    assert.deepEqual(
      (await describedEvents('Pod', 'crashing', pod.metadata?.uid)).map((e) => [
        e.involvedObject.apiVersion,
        e.type,
        e.reason,
      ]),
      [['v1', 'Warning', 'RollingBack']],
    );
  });

  it('are still written, without a uid, about a target deleted during the run', async () => {
    // Given a Deployment that is deleted before the run's last Event
    await createDeployment(namespace.name, 'gone', 1);
    await kubeconfig()
      .makeApiClient(AppsV1Api)
      .deleteNamespacedDeployment({ namespace: namespace.name, name: 'gone' });
    // When the run records its outcome
    await recordPhase({ kind: 'Deployment', name: 'gone' }, 'Warning', 'RemediationFailed');
    // Then the Event is there, naming the target without a uid
    const events = ours({ items: await listEvents('gone') });
    assert.deepEqual(
      events.map((e) => [e.reason, e.involvedObject.uid]),
      [['RemediationFailed', undefined]],
    );
  });
});

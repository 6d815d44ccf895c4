/**
 * Events written with a key are idempotent on the real API server: an activity retried after
 * its write (the same key) updates the Event it wrote instead of adding a second one.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventName, recordEvent } from '../../domain/kube/events.ts';
import { kubeconfig, useTestNamespace } from '../support/stack.ts';

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

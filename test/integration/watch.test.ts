/**
 * @kubernetes/client-node 2.0.0 aborted every watch after 30 s (issue #3020). In 2.0.1 the raw
 * Watch still aborts after 30 s without data, and the informer (ListWatch) then re-watches from
 * its last resourceVersion. KubeMedic relies on informers, so this proves one keeps delivering
 * events across quiet gaps for longer than 60 s, without an error and without a relist.
 */
import { CoreV1Api, makeInformer, type V1ConfigMap } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';

const namespace = useTestNamespace();

it(
  'an informer keeps delivering events for longer than 60 s across quiet gaps',
  { timeout: 180_000 },
  async () => {
    // Given an informer on the ConfigMaps of one namespace that carry this test's label
    const labelSelector = 'kubemedic.io/watch-test=true';
    const core = kubeconfig().makeApiClient(CoreV1Api);
    const path = `/api/v1/namespaces/${namespace.name}/configmaps`;
    let lists = 0;
    const informer = makeInformer(
      kubeconfig(),
      path,
      () => {
        lists += 1;
        return core.listNamespacedConfigMap({ namespace: namespace.name, labelSelector });
      },
      labelSelector,
    );
    const added: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (cm: V1ConfigMap) => added.push(cm.metadata?.name ?? ''));
    informer.on('error', (error: unknown) => errors.push(error));
    await informer.start();
    const started = Date.now();
    try {
      // When ConfigMaps are created at the start, after 35 s of quiet and after 70 s
      for (const [name, atMs] of [
        ['first', 0],
        ['second', 35_000],
        ['third', 70_000],
      ] as const) {
        await sleep(Math.max(0, started + atMs - Date.now()));
        await core.createNamespacedConfigMap({
          namespace: namespace.name,
          body: { metadata: { name, labels: { 'kubemedic.io/watch-test': 'true' } } },
        });
        // Then each reaches the informer, with no error on the way
        await eventually(
          `the informer to see ${name}`,
          async () => (added.includes(name) ? true : undefined),
          20_000,
        );
      }
      assert.ok(Date.now() - started > 60_000, 'the informer was observed for more than 60 s');
      assert.deepEqual(errors, []);
      assert.equal(lists, 1, 'the informer re-watched from its resourceVersion instead of listing again');
      assert.deepEqual(added, ['first', 'second', 'third']);
    } finally {
      await informer.stop();
    }
  },
);

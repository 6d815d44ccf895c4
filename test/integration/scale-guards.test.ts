/**
 * What bounds a scale-up at execute time, on the real API server: the maximum factor per run,
 * an HPA's maxReplicas, and ResourceQuota headroom.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActionError } from '../../domain/actions.ts';
import { scale } from '../../activities/actions/scale.ts';
import type { Action } from '../../api/policy.ts';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';
import { actionContext, createDeployment, createHpa, readDeployment } from '../support/workloads.ts';

const namespace = useTestNamespace('kmq');

async function scaleUp(name: string, params: NonNullable<Action['scale']>) {
  const target = { kind: 'Deployment' as const, namespace: namespace.name, name };
  const action: Action = { type: 'Scale', scale: params };
  const backup = await scale.backup(actionContext(), target, action);
  return scale.execute(actionContext(), target, action, backup);
}

describe('scale-up guards', () => {
  it('never scales by more than maxFactor in one run (default 2×)', async () => {
    await createDeployment(namespace.name, 'doubling', 2);
    const result = await scaleUp('doubling', { replicas: 9, maxFactor: 2 });
    assert.equal((await readDeployment(namespace.name, 'doubling')).spec?.replicas, 4);
    assert.match(result.summary, /from 2 to 4 replicas \(capped at 2× the current count\)/);
  });

  it('respects the maxReplicas of an HPA that scales the same workload', async () => {
    await createDeployment(namespace.name, 'autoscaled', 2);
    await createHpa(namespace.name, 'autoscaled', 'autoscaled', 1, 3);
    const result = await scaleUp('autoscaled', { factor: 2, maxFactor: 2 });
    assert.match(result.summary, /capped at the HPA's maxReplicas 3/);
    assert.equal((await readDeployment(namespace.name, 'autoscaled')).spec?.replicas, 3);
  });

  it('refuses, with the numbers, when a ResourceQuota has no room for the extra Pods', async () => {
    // Given a namespace of its own whose quota leaves 300m of CPU requests, and Pods requesting 100m each
    const core = kubeconfig().makeApiClient(CoreV1Api);
    const quotaNamespace = `${namespace.name}-quota`;
    await core.createNamespace({ body: { metadata: { name: quotaNamespace } } });
    try {
      await core.createNamespacedResourceQuota({
        namespace: quotaNamespace,
        body: { metadata: { name: 'small' }, spec: { hard: { 'requests.cpu': '500m' } } },
      });
      await createDeployment(quotaNamespace, 'hungry', 2);
      await eventually('the quota to count both Pods', async () => {
        const quota = await core.readNamespacedResourceQuota({ namespace: quotaNamespace, name: 'small' });
        return quota.status?.used?.['requests.cpu'] === '200m' ? true : undefined;
      });
      // When it would scale from 2 to 8 Pods (600m more), then it is refused and nothing changes
      const target = { kind: 'Deployment' as const, namespace: quotaNamespace, name: 'hungry' };
      const action: Action = { type: 'Scale', scale: { replicas: 8, maxFactor: 4 } };
      const backup = await scale.backup(actionContext(), target, action);
      await assert.rejects(
        scale.execute(actionContext(), target, action, backup),
        (error: unknown) =>
          error instanceof ActionError &&
          error.type === 'Quota' &&
          /ResourceQuota small leaves 0\.3 of requests\.cpu .*; 6 more Pods of Deployment .*\/hungry need 0\.6/.test(
            error.message,
          ),
      );
      assert.equal((await readDeployment(quotaNamespace, 'hungry')).spec?.replicas, 2);
    } finally {
      await core.deleteNamespace({ name: quotaNamespace });
    }
  });

  it('lets a retried execute through once the quota counts the Pods its first attempt made', async () => {
    // Given a quota with room for exactly two more Pods of 100m, and a Scale from 2 to 4 applied once
    const core = kubeconfig().makeApiClient(CoreV1Api);
    const quotaNamespace = `${namespace.name}-retry`;
    await core.createNamespace({ body: { metadata: { name: quotaNamespace } } });
    try {
      await core.createNamespacedResourceQuota({
        namespace: quotaNamespace,
        body: { metadata: { name: 'exact' }, spec: { hard: { 'requests.cpu': '400m' } } },
      });
      await createDeployment(quotaNamespace, 'retried', 2);
      const target = { kind: 'Deployment' as const, namespace: quotaNamespace, name: 'retried' };
      const action: Action = { type: 'Scale', scale: { replicas: 4, maxFactor: 2 } };
      const backup = await scale.backup(actionContext(), target, action);
      await scale.execute(actionContext(), target, action, backup);
      await eventually('the quota to count all four Pods', async () => {
        const quota = await core.readNamespacedResourceQuota({ namespace: quotaNamespace, name: 'exact' });
        return quota.status?.used?.['requests.cpu'] === '400m' ? true : undefined;
      });
      // When the same execute runs again (an activity retry after the effect), from the same backup
      const retried = await scale.execute(actionContext(), target, action, backup);
      // Then it converges on the same result instead of being refused for its own Pods
      assert.match(retried.summary, /from 2 to 4 replicas/);
      assert.equal((await readDeployment(quotaNamespace, 'retried')).spec?.replicas, 4);
    } finally {
      await core.deleteNamespace({ name: quotaNamespace });
    }
  });
});

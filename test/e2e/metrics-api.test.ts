/**
 * The metrics API (metrics.k8s.io) reached through the API server's aggregation layer, as in a
 * real cluster: a stand-in metrics-server registered as the APIService v1beta1.metrics.k8s.io
 * serves usage the test sets; clients (the test, the watcher, the verify activity) ask the API
 * server, which proxies to it. Then a Metrics condition drives a whole remediation.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kubeRequest } from '../../domain/kube/request.ts';
import { chartIdentities } from '../support/chart.ts';
import { useMetricsApi } from '../support/metrics-api.ts';
import { deploymentPolicy, scale } from '../support/policy-builder.ts';
import { useScenario } from '../support/scenario.ts';
import { eventually, kubeconfig } from '../support/stack.ts';
import { waitForRunningPods } from '../support/workloads.ts';

const { namespace, scenario } = useScenario('kmm');
const metrics = useMetricsApi();

interface PodMetricsList {
  kind: string;
  items: {
    metadata: { name: string; namespace: string };
    containers: { name: string; usage: Record<string, string> }[];
  }[];
}

const listPodMetrics = () =>
  kubeRequest<PodMetricsList>(kubeconfig(), {
    method: 'GET',
    path: `/apis/metrics.k8s.io/v1beta1/namespaces/${namespace.name}/pods`,
  });

async function podNames(app: string): Promise<string[]> {
  const pods = await kubeconfig()
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace: namespace.name, labelSelector: `app=${app}` });
  return pods.items.map((p) => p.metadata!.name!).sort();
}

describe('the metrics API through the aggregation layer', () => {
  it('serves the usage of a namespace through the API server', { timeout: 60_000 }, async () => {
    // Given usage served for two pods of the namespace and one of another namespace
    metrics.setPodUsage(namespace.name, 'web-1', 'app', { cpu: '150m', memory: '70Mi' });
    metrics.setPodUsage(namespace.name, 'web-2', 'app', { cpu: '20m', memory: '30Mi' });
    metrics.setPodUsage(namespace.name, 'web-2', 'sidecar', { cpu: '5m', memory: '8Mi' });
    metrics.setPodUsage('elsewhere', 'other-1', 'app', { cpu: '1', memory: '1Gi' });
    const served = metrics.requests.length;

    // When the test lists PodMetrics of its namespace through the API server
    const list = await listPodMetrics();

    // Then it gets exactly the served usage of that namespace
    assert.equal(list.kind, 'PodMetricsList');
    const byPod = Object.fromEntries(
      list.items.map((item) => [
        `${item.metadata.namespace}/${item.metadata.name}`,
        Object.fromEntries(item.containers.map((c) => [c.name, c.usage])),
      ]),
    );
    assert.deepEqual(byPod, {
      [`${namespace.name}/web-1`]: { app: { cpu: '150m', memory: '70Mi' } },
      [`${namespace.name}/web-2`]: {
        app: { cpu: '20m', memory: '30Mi' },
        sidecar: { cpu: '5m', memory: '8Mi' },
      },
    });
    // And the request came through the aggregator, carrying the user the API server authenticated
    assert.deepEqual(metrics.requests.slice(served), [
      { path: `/apis/metrics.k8s.io/v1beta1/namespaces/${namespace.name}/pods`, user: 'kubemedic-admin' },
    ]);
    metrics.pods.clear();
  });
});

describe('a remediation driven by a Metrics condition', () => {
  it(
    'scales the Deployment when a pod runs hot, and succeeds once usage falls',
    { timeout: 120_000 },
    async (t) => {
      const s = scenario(t);
      // Given a Deployment of 2 Running pods (each requesting 100m CPU) using 20m each
      const earlierRequests = metrics.requests.length;
      await s.given.deployment('web', 2);
      await waitForRunningPods(namespace.name, 'web', 2);
      const [hot, calm] = (await podNames('web')) as [string, string];
      for (const pod of [hot, calm])
        metrics.setPodUsage(namespace.name, pod, 'app', { cpu: '20m', memory: '32Mi' });
      // And a policy that scales it to 3 when CPU usage is above 90% of requests, and a watcher
      await s.given.policy(
        'scale-on-cpu',
        deploymentPolicy('web', {
          evaluationInterval: '1s',
          conditions: [
            {
              name: 'cpu',
              source: 'Metrics',
              metrics: { resource: 'CPU', against: 'Requests' },
              operator: '>',
              threshold: 0.9,
            },
          ],
          actions: [scale({ replicas: 3 })],
          verification: { settle: '2s' },
        }),
      );
      await s.given.watcher();
      // (the watcher reads the calm usage through the aggregator and does nothing)
      const metricsPath = `/apis/metrics.k8s.io/v1beta1/namespaces/${namespace.name}/pods`;
      await eventually('the watcher to read the metrics API', async () =>
        metrics.requests.some((r) => r.path === metricsPath) ? true : undefined,
      );
      await s.then.noRun('no run while usage is low');
      await s.then.replicasAre(2);

      // When one pod uses 150m (1.5 times its request)
      metrics.setPodUsage(namespace.name, hot, 'app', { cpu: '150m', memory: '32Mi' });

      // Then the watcher fires and the Deployment is scaled to 3
      await s.then.replicasBecome(3);
      // And the run was triggered by the hot pod's usage: 150m of 100m
      const [triggered] = (await s.then.triggeredBy()).readings;
      assert.equal(triggered?.name, 'cpu');
      assert.equal(triggered.holds, true);
      assert.ok(Math.abs(triggered.value! - 1.5) < 1e-9, `cpu ratio ${triggered.value}`);
      // And once the run verifies and the usage has fallen to 20m, it succeeds
      await s.then.runReaches('Verifying');
      metrics.setPodUsage(namespace.name, hot, 'app', { cpu: '20m', memory: '32Mi' });
      const result = await s.then.runEndsAs('Succeeded');
      await s.then.replicasAre(3);
      // And the verdict carries the usage ratio read through the aggregator (20m of 100m)
      const reading = result.steps[0]?.verdict?.readings.find((r) => r.name === 'cpu');
      assert.ok(reading?.value !== null && reading?.value !== undefined, 'a cpu reading');
      assert.ok(Math.abs(reading.value - 0.2) < 1e-9, `cpu ratio ${reading.value}`);
      assert.equal(reading.holds, false);
      // And every read of the pods' metrics came through the API server's front proxy, as the
      // chart's ServiceAccounts: the watcher's (evaluation) and the worker's (verification)
      const reads = metrics.requests.slice(earlierRequests).filter((r) => r.path === metricsPath);
      const { users } = await chartIdentities();
      assert.deepEqual(new Set(reads.map((r) => r.user)), new Set([users.watcher, users.worker]));
      await s.then.policyRecords('Succeeded');
      await s.then.historyRecordedAs('scale-on-metrics-api');
    },
  );
});

/**
 * Trigger-to-workflow-start latency on the local stack: the time from a condition becoming true
 * (the timestamp of the remote-written sample that breaches) to the remediation workflow's start
 * time as Temporal recorded it. Two evaluation intervals side by side, in one run.
 *
 *   npx tsx bench/trigger-latency.ts [samples per interval, default 8]
 *
 * Runs need no worker: the runs wait for approval and are terminated at the end.
 */
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { group, version } from '../api/index.ts';
import { installCrds } from '../devstack/crds.ts';
import { environment, isUp, loadKubeconfig, up } from '../devstack/stack.ts';
import { PolicyWatcher } from '../policy-watcher/index.ts';
import { remediationWorkflowId } from '../domain/run.ts';
import { remoteWrite } from '../devstack/remote-write.ts';

const samples = Number(process.argv[2] ?? 8);
const intervals = ['1s', '5s'];

if (!(await isUp())) await up(() => undefined);
const kubeconfig = loadKubeconfig();
await installCrds(kubeconfig);
const core = kubeconfig.makeApiClient(CoreV1Api);
const apps = kubeconfig.makeApiClient(AppsV1Api);
const connection = await Connection.connect({ address: environment().TEMPORAL_ADDRESS });
const client = new Client({ connection, namespace: environment().TEMPORAL_NAMESPACE });
const cluster = `bench-${randomBytes(3).toString('hex')}`;
const namespace = cluster;
await core.createNamespace({ body: { metadata: { name: namespace } } });
const watcher = new PolicyWatcher({
  kubeconfig,
  client,
  cluster,
  prometheusUrl: environment().PROMETHEUS_URL,
  tickMs: 100,
  log: () => undefined,
});
await watcher.start();

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const started: string[] = [];
try {
  console.log(`trigger → workflow start, ${samples} samples per evaluation interval (2 cores, local stack)`);
  console.log('interval   min      p50      p95      max   (ms)');
  for (const interval of intervals) {
    const policy = `latency-${interval}`;
    const name = (i: number) => `${policy}-${i}`;
    for (let i = 0; i < samples; i++) {
      const labels = { app: name(i) };
      await apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name: name(i), labels: { ...labels, bench: policy } },
          spec: {
            replicas: 0,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: { containers: [{ name: 'app', image: 'example.com/app:1' }] },
            },
          },
        },
      });
    }
    await kubeconfig.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: 'remediationpolicies',
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'RemediationPolicy',
        metadata: { name: policy, namespace },
        spec: {
          target: { kind: 'Deployment', selector: { matchLabels: { bench: policy } } },
          evaluationInterval: interval,
          conditions: [
            {
              name: 'signal',
              source: 'Prometheus',
              prometheus: { query: `kubemedic_bench_signal{namespace="${namespace}"}` },
              threshold: 0.5,
            },
          ],
          actions: [{ type: 'Scale', scale: { replicas: 1 } }],
          approval: { required: true, timeout: '1h' },
        },
      },
    });
    await sleep(2_000); // let the watcher see the targets and evaluate once
    const latencies: number[] = [];
    for (let i = 0; i < samples; i++) {
      const target = { kind: 'Deployment' as const, namespace, name: name(i) };
      const workflowId = remediationWorkflowId(cluster, target, {
        kind: 'RemediationPolicy',
        namespace,
        name: policy,
      });
      // Breach at a random point of the interval, as real triggers do.
      await sleep(Math.random() * 1_000);
      const breachedAt = Date.now();
      await remoteWrite([
        {
          labels: { __name__: 'kubemedic_bench_signal', namespace, deployment: name(i) },
          value: 1,
          timestampMs: breachedAt,
        },
      ]);
      for (;;) {
        const description = await client.workflow
          .getHandle(workflowId)
          .describe()
          .catch(() => undefined);
        if (description) {
          latencies.push(description.startTime.getTime() - breachedAt);
          started.push(workflowId);
          break;
        }
        await sleep(20);
      }
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const cell = (n: number) => String(Math.round(n)).padStart(6);
    console.log(
      `${interval.padEnd(8)} ${cell(sorted[0]!)}   ${cell(percentile(sorted, 50))}   ${cell(percentile(sorted, 95))}   ${cell(sorted.at(-1)!)}`,
    );
  }
} finally {
  await watcher.stop();
  for (const workflowId of started)
    await client.workflow
      .getHandle(workflowId)
      .terminate('benchmark done')
      .catch(() => undefined);
  await core.deleteNamespace({ name: namespace });
  await connection.close();
}

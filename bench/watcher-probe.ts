/**
 * A policy watcher in a process of its own, for P5 (bench/watcher-scale.ts): it watches the
 * whole cluster as the chart's watcher does, evaluates the policies its selector picks, and
 * answers the parent's `measure` with the CPU time it used, the policy evaluations it made and
 * its peak RSS over that window. Run with the selector as its only argument; IPC only.
 */
import { Client, Connection } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { environment, loadKubeconfig } from '../devstack/stack.ts';
import { PolicyWatcher, watcherRegistry } from '../policy-watcher/index.ts';
import { processUsage } from './measure.ts';

const [cluster, policySelector] = process.argv.slice(2);
if (!cluster || !policySelector || !process.send)
  throw new Error('usage: watcher-probe.ts <cluster> <selector>, with IPC');
const connection = await Connection.connect({ address: environment().TEMPORAL_ADDRESS });
const watcher = new PolicyWatcher({
  kubeconfig: loadKubeconfig(),
  client: new Client({ connection, namespace: environment().TEMPORAL_NAMESPACE }),
  cluster,
  prometheusUrl: environment().PROMETHEUS_URL,
  policySelector,
  log: () => undefined,
});
await watcher.start();

async function evaluations(): Promise<number> {
  const metric = await watcherRegistry.getSingleMetric('kubemedic_policy_evaluations_total')?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

process.on('message', (message: { measure?: number; stop?: true }) => {
  void (async () => {
    if (message.stop) {
      await watcher.stop();
      await connection.close();
      process.exit(0);
    }
    const seconds = message.measure ?? 0;
    const before = { ...processUsage(), evaluations: await evaluations() };
    let peakRss = before.rssBytes;
    for (let s = 0; s < seconds; s++) {
      await sleep(1_000);
      peakRss = Math.max(peakRss, processUsage().rssBytes);
    }
    const after = { ...processUsage(), evaluations: await evaluations() };
    process.send!({
      cpuSeconds: after.cpuSeconds - before.cpuSeconds,
      evaluations: after.evaluations - before.evaluations,
      peakRssBytes: peakRss,
    });
  })();
});
process.send({ ready: true });

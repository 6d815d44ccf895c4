/**
 * The policy watcher's own Prometheus metrics: policy evaluations (by result, with their
 * duration), the remediations in flight by phase (read from Temporal's visibility at scrape time,
 * so every replica reports the same cluster-wide figure: aggregate them with max, not sum), and
 * the watcher's health. The watcher process serves this registry next to its health endpoint.
 */
import type { Client } from '@temporalio/client';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { searchAttributes } from '../domain/search-attributes.ts';
import { phases } from '../domain/run.ts';

export const watcherRegistry = new Registry();
collectDefaultMetrics({ register: watcherRegistry });

export const policyEvaluations = new Counter({
  name: 'kubemedic_policy_evaluations_total',
  help: 'Policy evaluations by policy and result (the Ready reason: Evaluated, BlastRadius, Suspended, Invalid, EvaluationFailed).',
  labelNames: ['policy', 'result'] as const,
  registers: [watcherRegistry],
});

export const policyEvaluationDuration = new Histogram({
  name: 'kubemedic_policy_evaluation_duration_seconds',
  help: 'How long one policy evaluation took: condition queries, remediation starts and the status write.',
  labelNames: ['kind'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [watcherRegistry],
});

export const remediationsStarted = new Counter({
  name: 'kubemedic_remediation_triggers_total',
  help: 'Fired targets handed to Temporal, by policy; a trigger absorbed by a run already holding the target counts too.',
  labelNames: ['policy'] as const,
  registers: [watcherRegistry],
});

export const watcherInformersSynced = new Gauge({
  name: 'kubemedic_watcher_informers_synced',
  help: '1 when every informer of the watcher has listed and is watching, 0 otherwise.',
  registers: [watcherRegistry],
});

export const lastEvaluation = new Gauge({
  name: 'kubemedic_watcher_last_evaluation_timestamp_seconds',
  help: 'When the watcher last finished evaluating any policy (Unix time); a stale value means a stuck watcher.',
  registers: [watcherRegistry],
});

/** Registers the gauge of remediations in flight for `cluster`, counted through `client` at scrape time. */
export function trackActiveRemediations(client: Client, cluster: string): void {
  new Gauge({
    name: 'kubemedic_active_remediations',
    help: 'Remediation runs in flight in this cluster, by phase (cluster-wide, from Temporal visibility).',
    labelNames: ['phase'] as const,
    registers: [watcherRegistry],
    async collect() {
      const running = `${searchAttributes.cluster.name} = "${cluster}" AND ExecutionStatus = "Running"`;
      // A NeedsAttention run holds its ID until the target's attempts window passes: shown too.
      const counts = await Promise.all(
        [...phases, 'NeedsAttention' as const].map(async (phase) => {
          const query = `${running} AND ${searchAttributes.phase.name} = "${phase}"`;
          return [phase, (await client.workflow.count(query)).count] as const;
        }),
      );
      for (const [phase, count] of counts) this.set({ phase }, count);
    },
  });
}

/**
 * The Grafana dashboard the chart ships (charts/kubemedic/files/dashboard.json), written from this
 * short list of panels by `npm run generate`. test/e2e/dashboard.test.ts runs every query of it
 * against the real Prometheus after a demo run.
 */

export interface PanelQuery {
  expr: string;
  legend: string;
}

export interface Panel {
  title: string;
  description: string;
  type: 'timeseries' | 'stat' | 'table';
  unit?: string;
  queries: PanelQuery[];
}

export interface Row {
  title: string;
  panels: Panel[];
}

/**
 * Every selector is scoped to the dashboard's cluster: the `cluster` label KubeMedic's worker and
 * watcher put on every series they export (their KUBEMEDIC_CLUSTER, the SDK's metrics included).
 * A Prometheus that adds a `cluster` target label of its own keeps KubeMedic's as
 * `exported_cluster` unless `honor_labels` is set. All (`.*`) also matches series without one.
 */
const cluster = 'cluster=~"$cluster"';
const policy = `${cluster},policy=~"$policy"`;
const q = (expr: string, legend: string): PanelQuery => ({ expr, legend });

export const dashboardRows: Row[] = [
  {
    title: 'Remediations',
    panels: [
      {
        title: 'Remediations by outcome',
        description: 'Runs that ended, by outcome (kubemedic_remediations_total).',
        type: 'timeseries',
        unit: 'short',
        queries: [
          q(
            `sum by (outcome) (increase(kubemedic_remediations_total{${policy}}[$__rate_interval]))`,
            '{{outcome}}',
          ),
        ],
      },
      {
        title: 'Remediations in flight by phase',
        description:
          'Runs holding a target right now, from Temporal visibility; every watcher replica reports the cluster-wide figure, hence max.',
        type: 'timeseries',
        unit: 'short',
        queries: [q(`max by (phase) (kubemedic_active_remediations{${cluster}})`, '{{phase}}')],
      },
      {
        title: 'Outcomes by policy and action',
        description: 'How each policy fared over the dashboard range.',
        type: 'table',
        queries: [
          q(
            `sum by (policy, action, outcome) (increase(kubemedic_remediations_total{${policy}}[$__range]))`,
            '{{policy}} {{action}} {{outcome}}',
          ),
        ],
      },
      {
        title: 'Skips and refusals by reason',
        description:
          'Runs that did not act, and why (rate-limited, blast-radius, Protected, paused, ...). `kubemedic explain <run>` tells the whole story.',
        type: 'timeseries',
        unit: 'short',
        queries: [
          q(
            `sum by (reason) (increase(kubemedic_remediation_skips_total{${policy}}[$__rate_interval]))`,
            '{{reason}}',
          ),
        ],
      },
      {
        title: 'Rollbacks by result',
        description:
          'RolledBack restored the backup; RollbackConflict means someone changed the target after the action and their change was kept.',
        type: 'stat',
        unit: 'short',
        queries: [
          q(`sum by (result) (increase(kubemedic_rollbacks_total{${policy}}[$__range]))`, '{{result}}'),
        ],
      },
      {
        title: 'Remediation duration',
        description: 'From the trigger to the outcome (approval waits included), p50 and p95.',
        type: 'timeseries',
        unit: 's',
        queries: [0.5, 0.95].map((quantile) =>
          q(
            `histogram_quantile(${quantile}, sum by (le) (rate(kubemedic_remediation_duration_seconds_bucket{${policy}}[$__rate_interval])))`,
            `p${quantile * 100}`,
          ),
        ),
      },
    ],
  },
  {
    title: 'Policy watcher',
    panels: [
      {
        title: 'Policy evaluations by result',
        description: 'Evaluations per second, by the Ready reason they ended with.',
        type: 'timeseries',
        unit: 'ops',
        queries: [
          q(
            `sum by (result) (rate(kubemedic_policy_evaluations_total{${policy}}[$__rate_interval]))`,
            '{{result}}',
          ),
        ],
      },
      {
        title: 'Evaluation duration (p95)',
        description: 'Condition queries, workflow starts and the status write of one evaluation.',
        type: 'timeseries',
        unit: 's',
        queries: [
          q(
            `histogram_quantile(0.95, sum by (le, kind) (rate(kubemedic_policy_evaluation_duration_seconds_bucket{${cluster}}[$__rate_interval])))`,
            '{{kind}}',
          ),
        ],
      },
      {
        title: 'Triggers by policy',
        description: 'Fired targets handed to Temporal (repeats absorbed by a run in flight count too).',
        type: 'timeseries',
        unit: 'short',
        queries: [
          q(
            `sum by (policy) (increase(kubemedic_remediation_triggers_total{${policy}}[$__rate_interval]))`,
            '{{policy}}',
          ),
        ],
      },
    ],
  },
  {
    title: 'Health',
    panels: [
      {
        title: 'Workers polling',
        description: 'Worker processes polling their task queue (kubemedic_worker_running).',
        type: 'stat',
        unit: 'short',
        queries: [q(`sum(kubemedic_worker_running{${cluster}})`, 'workers')],
      },
      {
        title: 'Watcher informers synced',
        description:
          '1 when every watcher replica lists and watches all it needs; 0 means a replica is blind.',
        type: 'stat',
        unit: 'short',
        queries: [q(`min(kubemedic_watcher_informers_synced{${cluster}})`, 'synced')],
      },
      {
        title: 'Seconds since the last evaluation',
        description: 'A figure that keeps growing means the watchers are stuck.',
        type: 'stat',
        unit: 's',
        queries: [
          q(`time() - max(kubemedic_watcher_last_evaluation_timestamp_seconds{${cluster}})`, 'seconds'),
        ],
      },
      {
        title: 'Notifications by result',
        description: 'Webhook and Slack deliveries (each retry counts).',
        type: 'timeseries',
        unit: 'short',
        queries: [
          q(
            `sum by (type, result) (increase(kubemedic_notifications_total{${policy}}[$__rate_interval]))`,
            '{{type}} {{result}}',
          ),
        ],
      },
    ],
  },
  {
    title: 'Temporal SDK (worker)',
    panels: [
      {
        title: 'Workflow task schedule-to-start (p95)',
        description: 'How long workflow tasks wait for a worker: high means too few workers or slots.',
        type: 'timeseries',
        unit: 'ms',
        queries: [
          q(
            `histogram_quantile(0.95, sum by (le) (rate(temporal_workflow_task_schedule_to_start_latency_bucket{${cluster}}[$__rate_interval])))`,
            'p95',
          ),
        ],
      },
      {
        title: 'Activity execution latency (p95) by activity',
        description: 'Backup, execute, verify, rollback: how long each kind of step takes.',
        type: 'timeseries',
        unit: 'ms',
        queries: [
          q(
            `histogram_quantile(0.95, sum by (le, activity_type) (rate(temporal_activity_execution_latency_bucket{${cluster}}[$__rate_interval])))`,
            '{{activity_type}}',
          ),
        ],
      },
      {
        title: 'Task slots available',
        description: 'Free workflow and activity slots on the workers.',
        type: 'timeseries',
        unit: 'short',
        queries: [
          q(`sum by (worker_type) (temporal_worker_task_slots_available{${cluster}})`, '{{worker_type}}'),
        ],
      },
    ],
  },
];

const datasource = { type: 'prometheus', uid: '${datasource}' };

/** The dashboard as Grafana's JSON model: each row a collapsible row panel, panels in a 3-wide grid. */
export function renderDashboard(): unknown {
  const panels: unknown[] = [];
  let id = 0;
  let y = 0;
  for (const row of dashboardRows) {
    panels.push({
      id: ++id,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
    });
    y += 1;
    row.panels.forEach((panel, index) => {
      const x = (index % 3) * 8;
      if (index > 0 && index % 3 === 0) y += 8;
      panels.push({
        id: ++id,
        type: panel.type,
        title: panel.title,
        description: panel.description,
        datasource,
        gridPos: { h: 8, w: 8, x, y },
        fieldConfig: { defaults: { unit: panel.unit ?? 'short' }, overrides: [] },
        targets: panel.queries.map((query, i) => ({
          refId: String.fromCharCode(65 + i),
          datasource,
          expr: query.expr,
          legendFormat: query.legend,
          ...(panel.type === 'table' ? { instant: true, format: 'table' } : {}),
        })),
      });
    });
    y += 8;
  }
  return {
    title: 'KubeMedic',
    uid: 'kubemedic',
    description: 'Remediations, refusals, the policy watcher and the workers of KubeMedic.',
    schemaVersion: 39,
    tags: ['kubemedic'],
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus' },
        {
          name: 'cluster',
          label: 'Cluster',
          description:
            'The KubeMedic cluster (KUBEMEDIC_CLUSTER) its worker and watcher label every series with.',
          type: 'query',
          datasource,
          query: { query: 'label_values(kubemedic_worker_running, cluster)', refId: 'clusters' },
          includeAll: true,
          multi: true,
          allValue: '.*',
          current: { text: 'All', value: '$__all' },
          refresh: 2,
        },
        {
          name: 'policy',
          label: 'Policy',
          type: 'query',
          datasource,
          query: {
            query: `label_values(kubemedic_remediations_total{${cluster}}, policy)`,
            refId: 'policies',
          },
          includeAll: true,
          multi: true,
          allValue: '.*',
          current: { text: 'All', value: '$__all' },
          refresh: 2,
        },
      ],
    },
    panels,
  };
}

/** Every query of the dashboard, with the panel it belongs to. */
export const dashboardQueries = () =>
  dashboardRows.flatMap((row) =>
    row.panels.flatMap((panel) => panel.queries.map((query) => ({ panel, query }))),
  );

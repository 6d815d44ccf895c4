/**
 * The chart's Grafana dashboard against the real Prometheus: after the demo has run (KubeMedic's
 * worker and watcher as processes Prometheus scrapes), every panel query is run as Grafana runs
 * it — a range query over the demo's time, with Grafana's variables filled in — and must parse and
 * return data.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { dashboardQueries, dashboardRows } from '../../api/dashboard.ts';
import { demoCluster, demoNamespace, runDemo } from '../../devstack/demo.ts';
import { kubemedicProcesses, stopKubeMedicProcesses } from '../../devstack/kubemedic-processes.ts';
import { runningPid } from '../../devstack/processes.ts';
import { instantQuery } from '../../devstack/remote-write.ts';
import { environment } from '../../devstack/stack.ts';
import { ensureStack, eventually } from '../support/stack.ts';

interface RangeAnswer {
  status: string;
  error?: string;
  data?: { result: { metric: Record<string, string>; values: [number, string][] }[] };
}

/**
 * The variables Grafana substitutes, as it would for "All policies" and "All clusters" (or the
 * cluster chosen) over the demo's time range.
 */
function asGrafanaSends(expr: string, rangeSeconds: number, cluster = '.*'): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', `${rangeSeconds}s`)
    .replaceAll('$cluster', cluster)
    .replaceAll('$policy', '.*');
}

const stepSeconds = 5;

async function rangeQuery(expr: string, startSeconds: number, endSeconds: number): Promise<RangeAnswer> {
  const url = new URL('/api/v1/query_range', environment().PROMETHEUS_URL);
  url.search = new URLSearchParams({
    query: expr,
    start: String(startSeconds),
    end: String(endSeconds),
    step: String(stepSeconds),
  }).toString();
  return (await (await fetch(url)).json()) as RangeAnswer;
}

const hasNumbers = (answer: RangeAnswer) =>
  (answer.data?.result ?? []).some((series) =>
    series.values.some(([, value]) => !Number.isNaN(Number(value))),
  );

/**
 * The dashboard's data is the demo's: its worker and watcher on the ports Prometheus scrapes
 * (devstack/server-configs.ts), which a test cannot move to free ones. So a demo left running
 * (`npm run demo` keeps them) is replaced by this test's demo run and stopped when it ends, and
 * the test says so rather than failing on a taken port.
 */
const say = (line: string) => console.error(`[dashboard test] ${line}`);
after(() => stopKubeMedicProcesses(say));

describe('the Grafana dashboard', () => {
  it('answers every panel query with data after a demo run', { timeout: 600_000 }, async () => {
    // Given the demo has run and Prometheus has scraped its final counters
    await ensureStack();
    if (kubemedicProcesses.some(({ name }) => runningPid(name) !== undefined))
      say("the demo's worker and watcher are running: this test's demo run replaces them, and stops them");
    const demoStart = Math.floor(Date.now() / 1000) - 60;
    const runs = await runDemo({ log: () => undefined, keepRunning: true });
    assert.deepEqual(
      runs.map((run) => run.outcome),
      runs.map((run) => run.expected),
    );
    // The last series to appear is the protected Deployment's skip; increase() needs two samples.
    const skipped = `kubemedic_remediation_skips_total{policy="${demoNamespace}/ledger-error-rate"}`;
    await eventually('Prometheus to scrape the last outcome twice', async () =>
      (await instantQuery(`count_over_time(${skipped}[1m]) >= 2`)).length > 0 ? true : undefined,
    );
    // The range ends just after now and starts a whole number of steps before, so its last
    // evaluation is at its end and sees the samples the wait above saw.
    const end = Math.ceil(Date.now() / 1000) + 1;
    const start = end - stepSeconds * Math.ceil((end - demoStart) / stepSeconds);

    // When every panel query runs as Grafana sends it (for all clusters, the demo's, another)
    const queryAll = (cluster?: string) =>
      Promise.all(
        dashboardQueries().map(async ({ panel, query }) => ({
          panel: panel.title,
          expr: query.expr,
          answer: await rangeQuery(asGrafanaSends(query.expr, end - start, cluster), start, end),
        })),
      );
    const answers = await queryAll();

    // Then each parses, and each returns data
    const failed = answers.filter((a) => a.answer.status !== 'success');
    assert.deepEqual(
      failed.map((a) => `${a.panel}: ${a.answer.error}`),
      [],
      'queries Prometheus refused',
    );
    const empty = answers.filter((a) => !hasNumbers(a.answer));
    assert.deepEqual(
      empty.map((a) => `${a.panel}: ${a.expr}`),
      [],
      'queries without data after the demo',
    );
    // And the Cluster variable tells clusters apart: the worker and watcher label every series
    // with their cluster, so each panel has the demo's data under its cluster and none under another
    const titles = (list: typeof answers) => list.map((a) => a.panel);
    assert.deepEqual(titles((await queryAll(demoCluster)).filter((a) => !hasNumbers(a.answer))), []);
    assert.deepEqual(titles((await queryAll('no-such-cluster')).filter((a) => hasNumbers(a.answer))), []);
    const panels = dashboardRows.flatMap((row) => row.panels).length;
    console.log(`dashboard: ${panels} panels, ${answers.length} queries, all with data after the demo`);
  });
});

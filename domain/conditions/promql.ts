/**
 * The PromQL a Prometheus condition runs: the policy's own query, or a shorthand expanded to
 * the usual cAdvisor / kube-state-metrics series. One query per condition per evaluation, for
 * every target at once; series are mapped to targets by their labels (see readings.ts).
 */
import type { Condition } from '../../api/policy.ts';

type PrometheusBlock = NonNullable<Condition['prometheus']>;

// Namespace names are DNS labels, so they need no escaping inside a regex matcher.
const namespaceMatcher = (namespaces: string[]) =>
  namespaces.length === 0 ? '' : `namespace=~"${namespaces.join('|')}"`;

function selector(...matchers: string[]): string {
  return `{${matchers.filter((m) => m !== '').join(',')}}`;
}

export function promqlFor(block: PrometheusBlock, namespaces: string[]): string {
  if (block.query) return block.query;
  const ns = namespaceMatcher(namespaces);
  const window = block.window ?? '5m';
  const perPod = (expr: string) => `sum by (namespace, pod) (${expr})`;
  const base = (resource: 'cpu' | 'memory') =>
    perPod(
      `kube_pod_container_resource_${block.against === 'Limits' ? 'limits' : 'requests'}${selector(`resource="${resource}"`, ns)}`,
    );
  switch (block.shorthand) {
    case 'CPU':
      return `${perPod(`rate(container_cpu_usage_seconds_total${selector('container!=""', ns)}[${window}])`)} / ${base('cpu')}`;
    case 'Memory':
      return `${perPod(`container_memory_working_set_bytes${selector('container!=""', ns)}`)} / ${base('memory')}`;
    case 'ErrorRate':
      return `${perPod(`rate(http_requests_total${selector('code=~"5.."', ns)}[${window}])`)} / ${perPod(`rate(http_requests_total${selector(ns)}[${window}])`)}`;
    case 'Restarts':
      return perPod(`increase(kube_pod_container_status_restarts_total${selector(ns)}[${window}])`);
    default:
      throw new Error('a Prometheus condition needs a query or a shorthand');
  }
}

export interface PromSeries {
  metric: Record<string, string>;
  value: number;
}

export async function instantQuery(prometheusUrl: string, promql: string): Promise<PromSeries[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: promql }).toString(),
    signal: AbortSignal.timeout(15_000),
  });
  const answer = (await response.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (answer.status !== 'success' || answer.data === undefined) {
    throw new Error(`Prometheus refused ${JSON.stringify(promql)}: ${answer.error ?? response.status}`);
  }
  if (answer.data.resultType !== 'vector') {
    throw new Error(`${JSON.stringify(promql)} returned a ${answer.data.resultType}, not an instant vector`);
  }
  return answer.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

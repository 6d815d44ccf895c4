/** The PromQL each Prometheus condition runs: shorthands expanded, a query passed through as written. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { promqlFor } from '../../domain/conditions/promql.ts';

const shop = 'namespace=~"shop"';

describe('promqlFor', () => {
  it('expands CPU against requests (the default) and limits', () => {
    const usage = `sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!="",${shop}}[5m]))`;
    assert.equal(
      promqlFor({ shorthand: 'CPU' }, ['shop']),
      `${usage} / sum by (namespace, pod) (kube_pod_container_resource_requests{resource="cpu",${shop}})`,
    );
    assert.equal(
      promqlFor({ shorthand: 'CPU', against: 'Requests' }, ['shop']),
      promqlFor({ shorthand: 'CPU' }, ['shop']),
    );
    assert.equal(
      promqlFor({ shorthand: 'CPU', against: 'Limits' }, ['shop']),
      `${usage} / sum by (namespace, pod) (kube_pod_container_resource_limits{resource="cpu",${shop}})`,
    );
  });

  it('expands Memory against requests and limits, with no range', () => {
    const usage = `sum by (namespace, pod) (container_memory_working_set_bytes{container!="",${shop}})`;
    assert.equal(
      promqlFor({ shorthand: 'Memory', against: 'Requests', window: '1h' }, ['shop']),
      `${usage} / sum by (namespace, pod) (kube_pod_container_resource_requests{resource="memory",${shop}})`,
    );
    assert.equal(
      promqlFor({ shorthand: 'Memory', against: 'Limits' }, ['shop']),
      `${usage} / sum by (namespace, pod) (kube_pod_container_resource_limits{resource="memory",${shop}})`,
    );
  });

  it('expands ErrorRate as 5xx over all requests, per pod', () => {
    assert.equal(
      promqlFor({ shorthand: 'ErrorRate', window: '2m' }, ['shop']),
      `sum by (namespace, pod) (rate(http_requests_total{code=~"5..",${shop}}[2m]))` +
        ` / sum by (namespace, pod) (rate(http_requests_total{${shop}}[2m]))`,
    );
  });

  it('expands Restarts as the increase of the restart counter', () => {
    assert.equal(
      promqlFor({ shorthand: 'Restarts', window: '15m' }, ['shop']),
      `sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{${shop}}[15m]))`,
    );
  });

  it('uses a 5m window when none is given', () => {
    assert.match(promqlFor({ shorthand: 'Restarts' }, ['shop']), /\[5m\]\)\)$/);
    assert.match(promqlFor({ shorthand: 'ErrorRate' }, ['shop']), /\[5m\]\)\) \/ .*\[5m\]\)\)$/);
    assert.match(promqlFor({ shorthand: 'CPU' }, ['shop']), /\[5m\]\)\) \//);
  });

  it("matches the targets' namespaces, all of them, or none when there are none (Nodes)", () => {
    assert.equal(
      promqlFor({ shorthand: 'Restarts' }, ['shop', 'billing']),
      'sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{namespace=~"shop|billing"}[5m]))',
    );
    assert.equal(
      promqlFor({ shorthand: 'Restarts' }, []),
      'sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{}[5m]))',
    );
    assert.equal(
      promqlFor({ shorthand: 'CPU' }, []),
      'sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))' +
        ' / sum by (namespace, pod) (kube_pod_container_resource_requests{resource="cpu"})',
    );
  });

  it('passes a query through unchanged, ignoring namespaces and window', () => {
    const query = 'max by (namespace, deployment) (kubemedic_load{job="x"}) > bool 0.8';
    assert.equal(promqlFor({ query }, ['shop']), query);
    assert.equal(promqlFor({ query, window: '1m' }, []), query);
  });

  it('refuses a block with neither query nor shorthand', () => {
    assert.throws(() => promqlFor({}, ['shop']), /needs a query or a shorthand/);
  });
});

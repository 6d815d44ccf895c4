/**
 * Evaluation is batched: one PromQL query per condition for all of a policy's targets, never
 * one per target. A stand-in Prometheus HTTP endpoint counts the queries (this tests KubeMedic's
 * batching, not Prometheus).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { readConditions, targetKey, type TargetState } from '../../domain/conditions/readings.ts';
import type { Condition } from '../../api/policy.ts';

const queries: string[] = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    const query = new URLSearchParams(body).get('query') ?? '';
    queries.push(query);
    const result = Array.from({ length: 5 }, (_, i) => ({
      metric: { namespace: 'shop', deployment: `web-${i}` },
      value: [0, String(query.includes('latency') ? i * 100 : i / 10)],
    }));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
});
let prometheusUrl = '';
before(async () => {
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', () => resolvePromise()));
  prometheusUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

it('asks Prometheus once per condition for all targets, and maps every series to its target', async () => {
  const targets: TargetState[] = Array.from({ length: 5 }, (_, i) => ({
    ref: { kind: 'Deployment', namespace: 'shop', name: `web-${i}` },
    object: {} as V1Deployment,
    pods: [],
  }));
  const conditions: Condition[] = [
    {
      name: 'load',
      source: 'Prometheus',
      prometheus: { query: 'load' },
      operator: '>',
      threshold: 0.25,
      for: '0s',
    },
    {
      name: 'latency',
      source: 'Prometheus',
      prometheus: { query: 'latency' },
      operator: '>=',
      threshold: 300,
      for: '0s',
    },
  ];
  const readings = await readConditions(conditions, targets, {
    kubeconfig: new KubeConfig(),
    prometheusUrl,
    now: new Date(),
  });
  assert.deepEqual(queries, ['load', 'latency']);
  const web3 = readings.get(targetKey(targets[3]!.ref));
  assert.deepEqual(web3, [
    { name: 'load', value: 0.3, holds: true },
    { name: 'latency', value: 300, holds: true },
  ]);
  assert.deepEqual(
    readings.get(targetKey(targets[0]!.ref))?.map((r) => r.holds),
    [false, false],
  );
});

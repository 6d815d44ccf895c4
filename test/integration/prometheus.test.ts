/**
 * Proof that the local Prometheus and Alertmanager are real: a sample written through remote
 * write comes back from PromQL, and an alert from a Prometheus rule reaches a webhook receiver
 * through Alertmanager.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { before, describe, it } from 'node:test';
import { environment } from '../../devstack/stack.ts';
import { instantQuery, remoteWrite } from '../../devstack/remote-write.ts';
import { loadAlertRules } from '../support/alert-rules.ts';
import { ensureStack, eventually } from '../support/stack.ts';

interface AlertmanagerWebhook {
  status: string;
  alerts: { status: string; labels: Record<string, string> }[];
}

describe('the local Prometheus and Alertmanager', () => {
  before(ensureStack);

  it('answers a PromQL query with a sample written through remote write', async () => {
    // Given a sample with a label unique to this test
    const run = randomUUID();
    // When it is written through the remote-write receiver
    await remoteWrite([{ labels: { __name__: 'kubemedic_stack_proof', run }, value: 42 }]);
    // Then a PromQL query returns it
    const result = await eventually('the sample to be queryable', async () => {
      const series = await instantQuery(`kubemedic_stack_proof{run="${run}"}`);
      return series.length > 0 ? series : undefined;
    });
    assert.equal(result.length, 1);
    assert.equal(result[0]?.value[1], '42');
  });

  it(
    'delivers an alert from a Prometheus rule to a webhook through Alertmanager',
    { timeout: 120_000 },
    async () => {
      // Given a webhook receiver on the stack's alert sink port
      const received: AlertmanagerWebhook[] = [];
      const sink = await listen(Number(environment().KUBEMEDIC_ALERT_SINK_PORT), (body) =>
        received.push(JSON.parse(body)),
      );
      const run = randomUUID();
      let unloadRules: (() => Promise<void>) | undefined;
      try {
        // And a rule that fires on a remote-written signal
        unloadRules = await loadAlertRules(`stack-proof-${run}`, [
          {
            alert: 'KubeMedicStackProof',
            expr: `kubemedic_stack_proof_signal{run="${run}"} > 0`,
            labels: { kubemedic_test_sink: 'true', run },
            annotations: { summary: 'the local stack delivers alerts' },
          },
        ]);
        // When the signal goes above zero
        await remoteWrite([{ labels: { __name__: 'kubemedic_stack_proof_signal', run }, value: 1 }]);
        // Then Alertmanager posts the firing alert to the webhook
        const alert = await eventually(
          'the alert to reach the webhook',
          async () =>
            received
              .flatMap((payload) => payload.alerts)
              .find((a) => a.labels.run === run && a.status === 'firing'),
          90_000,
        );
        assert.equal(alert.labels.alertname, 'KubeMedicStackProof');
      } finally {
        await unloadRules?.();
        await new Promise((resolvePromise) => sink.close(resolvePromise));
      }
    },
  );
});

function listen(port: number, onBody: (body: string) => void): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      onBody(body);
      res.writeHead(200).end();
    });
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolvePromise(server));
  });
}

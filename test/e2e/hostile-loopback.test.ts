/**
 * Issue 9's SSRF into the worker's own loopback, end to end: a tenant's Webhook action aimed at a
 * service listening on 127.0.0.1 (the worker's sidecars, the SDK's metrics port, a port-forward),
 * by address and by a name that resolves there. The worker here runs as in production, with
 * loopback refused (the other e2e files allow it, since their receivers listen there); the
 * service must hear nothing. hostile-tenant.test.ts has the metadata address and redirects.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createPolicy, startRunNow, useKubeMedic } from '../support/kubemedic.ts';
import { conditions, deploymentPolicy } from '../support/policy-builder.ts';
import { useTestNamespace } from '../support/stack.ts';
import { createAvailableDeployment } from '../support/workloads.ts';

const tenant = useTestNamespace('kmt-loopback');
const medic = useKubeMedic({ workerOptions: { outbound: { allowLoopback: false } } });

describe('a hostile tenant aiming at loopback', () => {
  const heard: string[] = [];
  const internal = createServer((request, response) => {
    heard.push(`${request.method} ${request.url}`);
    response.writeHead(200).end('db_password=internal-secret');
  });
  let port = 0;

  before(async () => {
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
    port = (internal.address() as AddressInfo).port;
    await createAvailableDeployment(tenant.name, 'web', 1);
  });
  after(() => internal.close());

  for (const [name, host, refusal] of [
    ['by-address', '127.0.0.1', /127\.0\.0\.1 is a loopback address/],
    ['by-name', 'localhost', /localhost resolves to .*loopback/],
  ] as const) {
    it(`a webhook to ${host} is refused before any connection, and the service hears nothing`, async () => {
      // When the tenant's policy calls a service on the worker's loopback
      await createPolicy(
        'RemediationPolicy',
        { name, namespace: tenant.name },
        deploymentPolicy('web', {
          conditions: [conditions.podPending('pending')],
          actions: [{ type: 'Webhook', timeout: '10s', webhook: { url: `http://${host}:${port}/admin` } }],
        }),
      );
      const handle = await startRunNow(
        medic,
        { name, namespace: tenant.name },
        { kind: 'Deployment', namespace: tenant.name, name: 'web' },
      );
      const result = await handle.result();
      // Then the run fails saying why, and nothing reached the service
      assert.equal(result.outcome, 'Failed', result.reason);
      assert.match(result.reason, refusal);
      assert.deepEqual(heard, []);
    });
  }
});

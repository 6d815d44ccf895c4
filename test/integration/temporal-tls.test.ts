/**
 * Mutual TLS to Temporal as the chart's `temporal.tls` values set it up, against the real dev
 * server. The dev server speaks plain gRPC, so a TLS terminator in this process (node:tls, client
 * certificates required, ALPN h2) stands in front of it, as a TLS-terminating proxy in front of a
 * self-hosted Temporal would. temporalConnectionOptions reads the certificate files the chart
 * mounts; a worker (NativeConnection) and a client (Connection) run a workflow through it, and
 * without the client certificate they are refused.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer, type Server } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createCa, type KeyPair, signCertificate } from '../../devstack/pki.ts';
import { environment } from '../../devstack/stack.ts';
import { temporalConnectionOptions } from '../../policy-watcher/temporal-connection.ts';
import * as activities from '../fixtures/stack-proof/activities.ts';
import { ensureStack } from '../support/stack.ts';

const workflowsPath = fileURLToPath(new URL('../fixtures/stack-proof/workflows.ts', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'kubemedic-temporal-tls-'));
const pair = (name: string): KeyPair => ({ cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) });
const [ca, server, client] = [pair('ca'), pair('server'), pair('client')];
const serverName = 'temporal.kubemedic.test';

describe('mutual TLS to Temporal', () => {
  let terminator: Server;
  /** The common names of the client certificates the terminator accepted. */
  const accepted: string[] = [];
  /** Why the terminator refused handshakes. */
  const handshakeErrors: string[] = [];
  let address: string;

  before(async () => {
    await ensureStack();
    // Given a CA, the server's certificate for its name, and the worker's client certificate
    createCa(ca, 'kubemedic-test-ca', 1);
    signCertificate(
      ca,
      server,
      `/CN=${serverName}`,
      `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\n`,
      1,
    );
    signCertificate(ca, client, '/CN=kubemedic-worker', 'extendedKeyUsage=clientAuth\n', 1);
    // And Temporal behind a TLS terminator that requires a client certificate from that CA
    const [host, port] = environment().TEMPORAL_ADDRESS.split(':');
    terminator = createTlsServer(
      {
        cert: readFileSync(server.cert),
        key: readFileSync(server.key),
        ca: readFileSync(ca.cert),
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2'],
      },
      (socket) => {
        accepted.push(String(socket.getPeerCertificate().subject?.CN));
        const upstream = connectTcp(Number(port), host);
        socket.pipe(upstream).pipe(socket);
        upstream.on('error', () => socket.destroy());
        socket.on('error', () => upstream.destroy());
      },
    );
    terminator.on('tlsClientError', (error) => handshakeErrors.push(error.message));
    await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(terminator.address() as { port: number }).port}`;
  });
  after(() => terminator?.close());

  /** The worker's environment as the chart sets it with temporal.tls.enabled. */
  const chartEnvironment = (withClientCertificate: boolean) => ({
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TLS_CA: ca.cert,
    TEMPORAL_TLS_SERVER_NAME: serverName,
    ...(withClientCertificate ? { TEMPORAL_TLS_CERT: client.cert, TEMPORAL_TLS_KEY: client.key } : {}),
  });

  it('runs a workflow through it with the mounted certificate files', { timeout: 120_000 }, async () => {
    // When a worker and a client connect with the options read from those files
    const options = temporalConnectionOptions(chartEnvironment(true));
    const native = await NativeConnection.connect(options);
    const connection = await Connection.connect(options);
    try {
      const taskQueue = `tls-proof-${randomUUID()}`;
      const worker = await Worker.create({ connection: native, taskQueue, workflowsPath, activities });
      const temporal = new Client({ connection, namespace: environment().TEMPORAL_NAMESPACE });
      // Then a workflow runs to completion through the TLS connection
      const result = await worker.runUntil(
        temporal.workflow.execute('greeting', {
          taskQueue,
          workflowId: `tls-proof/${randomUUID()}`,
          args: ['tls'],
        }),
      );
      assert.equal(result, 'hello, tls');
      // And the terminator saw the worker's client certificate
      assert.ok(accepted.includes('kubemedic-worker'), JSON.stringify(accepted));
    } finally {
      await connection.close();
      await native.close();
    }
  });

  it('is refused without the client certificate', { timeout: 60_000 }, async () => {
    // When a client connects with the CA but no certificate of its own, then it cannot get through
    const options = temporalConnectionOptions(chartEnvironment(false));
    const refused = await Connection.connect({ ...options, connectTimeout: '5 seconds' }).then(
      async (connection) => {
        await connection.close();
        return undefined;
      },
      (error: unknown) => error,
    );
    assert.match(String(refused), /Failed to connect/);
    // And the terminator refused its handshake for the missing certificate
    assert.ok(
      handshakeErrors.some((message) => /certificate/i.test(message)),
      JSON.stringify(handshakeErrors),
    );
  });
});

/**
 * The two ways the chart secures the connection to Temporal, against the real dev server: mutual
 * TLS (`temporal.tls`) and an API key (`temporal.apiKey`, as Temporal Cloud issues them). The dev
 * server speaks plain gRPC and checks neither, so a gatekeeper in this process stands in front of
 * it, as a TLS-terminating proxy or Temporal Cloud would: for mTLS a TLS terminator that requires
 * a client certificate from the test CA; for the API key an HTTP/2 proxy over TLS that forwards a
 * gRPC call only with `authorization: Bearer <key>`. temporalConnectionOptions reads what the
 * chart mounts; a worker (NativeConnection) and a client (Connection) run a workflow through each
 * gatekeeper, and without the certificate or with a wrong key they are refused.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import {
  connect as connectHttp2,
  constants as http2,
  createSecureServer,
  type ClientHttp2Session,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer, type Server } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createCa, type KeyPair, signCertificate } from '../../devstack/pki.ts';
import { environment } from '../../devstack/stack.ts';
import { temporalConnectionOptions } from '../../domain/config/temporal-connection.ts';
import * as activities from '../fixtures/stack-proof/activities.ts';
import { ensureStack } from '../support/stack.ts';

const workflowsPath = fileURLToPath(new URL('../fixtures/stack-proof/workflows.ts', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'kubemedic-temporal-security-'));
const pair = (name: string): KeyPair => ({ cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) });
const [ca, server, client] = [pair('ca'), pair('server'), pair('client')];
const serverName = 'temporal.kubemedic.test';

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
});

const listening = async (gatekeeper: Server | Http2SecureServer) => {
  await new Promise<void>((resolve) => gatekeeper.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(gatekeeper.address() as { port: number }).port}`;
};

/** A worker and a client connected with `options` run the one-activity workflow to completion. */
async function runWorkflowThrough(options: ReturnType<typeof temporalConnectionOptions>): Promise<string> {
  const native = await NativeConnection.connect(options);
  const connection = await Connection.connect(options);
  try {
    const taskQueue = `secured-${randomUUID()}`;
    const worker = await Worker.create({ connection: native, taskQueue, workflowsPath, activities });
    const temporal = new Client({ connection, namespace: environment().TEMPORAL_NAMESPACE });
    return await worker.runUntil(
      temporal.workflow.execute('greeting', {
        taskQueue,
        workflowId: `secured/${randomUUID()}`,
        args: ['tls'],
      }),
    );
  } finally {
    await connection.close();
    await native.close();
  }
}

/** Connecting with `options` fails; returns the error. */
async function refusedConnection(options: ReturnType<typeof temporalConnectionOptions>): Promise<unknown> {
  const refused = await Connection.connect({ ...options, connectTimeout: '5 seconds' }).then(
    async (connection) => {
      await connection.close();
      return undefined;
    },
    (error: unknown) => error,
  );
  assert.ok(refused !== undefined, 'connected');
  return refused;
}

describe('mutual TLS to Temporal', () => {
  let terminator: Server;
  /** The common names of the client certificates the terminator accepted. */
  const accepted: string[] = [];
  /** Why the terminator refused handshakes. */
  const handshakeErrors: string[] = [];
  let address: string;

  before(async () => {
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
    address = await listening(terminator);
  });
  after(() => terminator?.close());

  /** The worker's environment as the chart sets it with temporal.tls.enabled. */
  const chartEnvironment = (withClientCertificate: boolean) => ({
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.cert,
    TEMPORAL_TLS_SERVER_NAME: serverName,
    ...(withClientCertificate
      ? { TEMPORAL_TLS_CLIENT_CERT_PATH: client.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: client.key }
      : {}),
  });

  it('runs a workflow through it with the mounted certificate files', { timeout: 120_000 }, async () => {
    // When a worker and a client connect with the options read from those files
    // Then a workflow runs to completion through the TLS connection
    assert.equal(await runWorkflowThrough(temporalConnectionOptions(chartEnvironment(true))), 'hello, tls');
    // And the terminator saw the worker's client certificate
    assert.ok(accepted.includes('kubemedic-worker'), JSON.stringify(accepted));
  });

  it('is refused without the client certificate', { timeout: 60_000 }, async () => {
    // When a client connects with the CA but no certificate of its own, then it cannot get through
    const refused = await refusedConnection(temporalConnectionOptions(chartEnvironment(false)));
    assert.match(String(refused), /Failed to connect/);
    // And the terminator refused its handshake for the missing certificate
    assert.ok(
      handshakeErrors.some((message) => /certificate/i.test(message)),
      JSON.stringify(handshakeErrors),
    );
  });
});

describe('an API key to Temporal', () => {
  const apiKey = `key-${randomUUID()}`;
  let gatekeeper: Http2SecureServer;
  let upstream: ClientHttp2Session;
  /** The authorization header of every call that reached the gatekeeper. */
  const authorizations: string[] = [];
  let address: string;

  before(async () => {
    // And Temporal behind an HTTP/2 proxy over TLS that forwards a call only with the API key
    upstream = connectHttp2(`http://${environment().TEMPORAL_ADDRESS}`);
    gatekeeper = createSecureServer({ cert: readFileSync(server.cert), key: readFileSync(server.key) });
    gatekeeper.on('session', (session) => sessions.add(session));
    gatekeeper.on('stream', (stream, headers) => {
      authorizations.push(String(headers.authorization));
      if (headers.authorization !== `Bearer ${apiKey}`) {
        // A trailers-only gRPC answer, as Temporal Cloud gives a bad key
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': String(16), // UNAUTHENTICATED
            'grpc-message': 'invalid API key',
          },
          { endStream: true },
        );
        return;
      }
      forward(stream, headers);
    });
    address = await listening(gatekeeper);
  });
  // Proxied long polls may still be open: end every session, or the test process lingers
  const sessions = new Set<ServerHttp2Session>();
  after(() => {
    for (const session of sessions) session.destroy();
    gatekeeper?.close();
    upstream?.destroy();
  });

  /** One gRPC call passed on to the dev server: request headers and body, response headers, body and trailers. */
  function forward(stream: ServerHttp2Stream, headers: IncomingHttpHeaders) {
    // The upstream session sets its own authority and scheme (plain HTTP/2)
    const passed = Object.fromEntries(
      Object.entries(headers).filter(([name]) => name !== ':authority' && name !== ':scheme'),
    );
    const call = upstream.request(passed);
    let trailers: Record<string, string | string[] | undefined> = {};
    call.on('trailers', (received) => (trailers = received));
    call.on('response', (received) => {
      // grpc-status in the response headers: a trailers-only answer, complete in itself
      if (received['grpc-status'] !== undefined) {
        stream.respond(received, { endStream: true });
        return;
      }
      stream.respond(received, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers(trailers));
      call.pipe(stream);
    });
    stream.pipe(call);
    call.on('error', () => stream.close(http2.NGHTTP2_INTERNAL_ERROR));
    stream.on('close', () => call.close());
  }

  /** The worker's environment as the chart sets it with temporal.apiKey (and the test CA). */
  const chartEnvironment = (key: string) => ({
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.cert,
    TEMPORAL_TLS_SERVER_NAME: serverName,
    TEMPORAL_API_KEY: key,
  });

  it('runs a workflow through it, every call carrying the key', { timeout: 120_000 }, async () => {
    // When a worker and a client connect with the key from the environment
    // Then a workflow runs to completion through the proxy
    assert.equal(await runWorkflowThrough(temporalConnectionOptions(chartEnvironment(apiKey))), 'hello, tls');
    // And every call the proxy saw carried the key as a bearer token
    assert.ok(authorizations.length > 0);
    assert.deepEqual([...new Set(authorizations)], [`Bearer ${apiKey}`]);
  });

  it('is refused with a wrong key', { timeout: 60_000 }, async () => {
    // When a client connects with another key, then it is refused as unauthenticated
    const refused = await refusedConnection(temporalConnectionOptions(chartEnvironment('not-the-key')));
    assert.match(
      String((refused as { cause?: unknown }).cause ?? refused),
      /invalid API key|UNAUTHENTICATED/,
    );
    assert.ok(authorizations.includes('Bearer not-the-key'));
  });
});

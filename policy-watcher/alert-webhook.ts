/**
 * The HTTP receiver Alertmanager's webhook_config posts to: POST /alertmanager with a version 4
 * payload. A request must first carry the receiver's bearer token or, with mutual TLS, come with
 * a trusted client certificate (alert-auth.ts), unless the operator chose to run without either;
 * one that does not is answered 401 with the reason, and its body is never read. A bad request is answered 400 (or 404, 405, 413) with the reason, and never
 * reaches the store. Every answer is counted by reason and refusals are logged
 * (alert-requests.ts); the watcher goes on either way.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AlertReceiverOptions } from '../domain/config/watcher.ts';
import { type Authenticate, authenticator, serverTls } from './alert-auth.ts';
import { type AlertmanagerPayload, parseAlertmanagerPayload } from './alert-payload.ts';
import { type Log, RefusalLog, type RequestReason } from './alert-requests.ts';

export const alertWebhookPath = '/alertmanager';
/**
 * Alertmanager posts a whole group at once unless its webhook_config sets max_alerts; past this a
 * body is refused (413, counted as TooLarge), so set max_alerts (1,000 alerts are well below it).
 */
export const maxBodyBytes = 4 * 1024 * 1024;
/** A client that trickles its request (headers or body) is cut off, so it cannot hold a socket for long. */
const headersTimeoutMs = 10_000;
const requestTimeoutMs = 30_000;

export interface AlertWebhook {
  port: number;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  reason: RequestReason;
  message: string;
}

export async function startAlertWebhook(
  { port, host = '127.0.0.1', auth }: AlertReceiverOptions,
  onPayload: (payload: AlertmanagerPayload) => void,
  log: Log,
): Promise<AlertWebhook> {
  const authenticate = await authenticator(auth, (error) =>
    log('the alert receiver token file cannot be read; the last token read stays', {
      level: 'warn',
      error: String(error),
    }),
  );
  const refusals = new RefusalLog(log);
  const timeouts = { headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs };
  const server: Server =
    auth.mode === 'mtls'
      ? createHttpsServer({ ...timeouts, ...(await serverTls(auth)) })
      : createServer(timeouts);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    handle(request, authenticate, onPayload)
      .catch((error: unknown): Answer => ({ status: 500, reason: 'Error', message: String(error) }))
      .then((result) => {
        refusals.record(result.reason, {
          status: result.status,
          message: result.message,
          remoteAddress: request.socket.remoteAddress,
        });
        answer(response, result);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const listening = (server.address() as AddressInfo).port;
  if (auth.mode === 'none') {
    log('the alert receiver accepts alerts WITHOUT authentication (KUBEMEDIC_ALERT_RECEIVER_AUTH=none)', {
      level: 'warn',
      why: `anyone who reaches ${host}:${listening} can post an alert that starts a remediation`,
    });
  } else {
    log('the alert receiver authenticates every request', { host, port: listening, auth: auth.mode });
  }
  return { port: listening, close: () => closeServer(server) };
}

async function handle(
  request: IncomingMessage,
  authenticate: Authenticate,
  onPayload: (payload: AlertmanagerPayload) => void,
): Promise<Answer> {
  // Authentication first: an unauthenticated client learns nothing else and sends no body we read.
  const verdict = await authenticate(request);
  if (!verdict.ok) return { status: 401, reason: verdict.reason, message: verdict.message };
  const path = new URL(request.url ?? '/', 'http://receiver').pathname;
  if (path !== alertWebhookPath) {
    return { status: 404, reason: 'NotFound', message: `POST alerts to ${alertWebhookPath}` };
  }
  if (request.method !== 'POST') return { status: 405, reason: 'MethodNotAllowed', message: 'only POST' };
  const tooLarge: Answer = {
    status: 413,
    reason: 'TooLarge',
    message: `the body is over ${maxBodyBytes} bytes (set max_alerts in Alertmanager's webhook_config)`,
  };
  if (Number(request.headers['content-length'] ?? 0) > maxBodyBytes) return tooLarge;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) return tooLarge;
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    return { status: 400, reason: 'NotJson', message: `the body is not JSON: ${(error as Error).message}` };
  }
  const parsed = parseAlertmanagerPayload(body);
  if (!parsed.ok) {
    return {
      status: 400,
      reason: 'NotAPayload',
      message: `not an Alertmanager webhook payload: ${parsed.reason}`,
    };
  }
  onPayload(parsed.payload);
  return { status: 200, reason: 'Accepted', message: `${parsed.payload.alerts.length} alert(s) received` };
}

function answer(response: ServerResponse, { status, reason, message }: Answer): void {
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    Connection: 'close',
    ...(status === 401 && !reason.includes('ClientCertificate')
      ? { 'WWW-Authenticate': 'Bearer realm="kubemedic-alert-receiver"' }
      : {}),
  });
  response.end(status === 200 ? `${message}\n` : `${reason}: ${message}\n`);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * The HTTP receiver Alertmanager's webhook_config posts to: POST /alertmanager with a version 4
 * payload. A bad request is answered 400 (or 404, 405, 413) with the reason, and never reaches
 * the store; the watcher goes on either way.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AlertmanagerPayload, parseAlertmanagerPayload } from './alert-payload.ts';

export const alertWebhookPath = '/alertmanager';
/** Alertmanager caps a group's alerts (max_alerts); a body past this is not one of its posts. */
const maxBodyBytes = 4 * 1024 * 1024;

export interface AlertWebhook {
  port: number;
  close(): Promise<void>;
}

export async function startAlertWebhook(
  port: number,
  onPayload: (payload: AlertmanagerPayload) => void,
  host = '0.0.0.0',
): Promise<AlertWebhook> {
  const server = createServer((request, response) => {
    handle(request, onPayload).then(
      ({ status, message }) => answer(response, status, message),
      (error: unknown) => answer(response, 500, String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => closeServer(server),
  };
}

async function handle(
  request: IncomingMessage,
  onPayload: (payload: AlertmanagerPayload) => void,
): Promise<{ status: number; message: string }> {
  const path = new URL(request.url ?? '/', 'http://receiver').pathname;
  if (path !== alertWebhookPath) return { status: 404, message: `POST alerts to ${alertWebhookPath}` };
  if (request.method !== 'POST') return { status: 405, message: 'only POST' };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) return { status: 413, message: `the body is over ${maxBodyBytes} bytes` };
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    return { status: 400, message: `the body is not JSON: ${(error as Error).message}` };
  }
  const parsed = parseAlertmanagerPayload(body);
  if (!parsed.ok) return { status: 400, message: `not an Alertmanager webhook payload: ${parsed.reason}` };
  onPayload(parsed.payload);
  return { status: 200, message: `${parsed.payload.alerts.length} alert(s) received` };
}

function answer(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
  response.end(`${message}\n`);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

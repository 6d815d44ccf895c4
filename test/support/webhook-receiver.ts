/**
 * A real HTTP server in the test process that receives notifications, as a team's webhook
 * endpoint would: it keeps every request (raw body and headers) and can answer 500 for a
 * number of requests first (or another status), to play a sink that is down for a while.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import { signatureHeader, timestampHeader, verifySignature } from '../../activities/notify-signature.ts';
import { kubeconfig } from './stack.ts';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** Exactly the bytes received, as a signature covers them. */
  raw: string;
  /** What the receiver answered. */
  status: number;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:<port>, known once the test file's hooks have run. */
  url(path: string): string;
  /** Every request so far, in arrival order. */
  requests: ReceivedRequest[];
  /** The next `count` requests to `path` are answered `status` (500 unless said). */
  failNext(path: string, count: number, status?: number): void;
}

export function useWebhookReceiver(): WebhookReceiver {
  const requests: ReceivedRequest[] = [];
  const failures = new Map<string, { count: number; status: number }>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const failing = failures.get(path) ?? { count: 0, status: 200 };
      if (failing.count > 0) failures.set(path, { ...failing, count: failing.count - 1 });
      const status = failing.count > 0 ? failing.status : 200;
      requests.push({ path, headers: request.headers, raw: Buffer.concat(chunks).toString('utf8'), status });
      response.writeHead(status).end();
    });
  });
  let base = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());
  return {
    url: (path) => `${base}${path}`,
    requests,
    failNext: (path, count, status = 500) => void failures.set(path, { count, status }),
  };
}

/** The timestamp a signed request carries (Unix seconds, as text). */
export const signedAt = (request: ReceivedRequest) => String(request.headers[timestampHeader.toLowerCase()]);

/** Whether the request's signature header is the HMAC with `key` of its timestamp and raw body. */
export const signedWith = (key: string, request: ReceivedRequest) =>
  verifySignature(
    key,
    signedAt(request),
    request.raw,
    String(request.headers[signatureHeader.toLowerCase()]),
  );

/** A sink's Secret (its URL, routing key or signing key under the keys given) in `namespace`. */
export async function createSinkSecret(
  namespace: string,
  name: string,
  stringData: Record<string, string>,
): Promise<void> {
  await kubeconfig()
    .makeApiClient(CoreV1Api)
    .createNamespacedSecret({ namespace, body: { metadata: { name }, stringData } });
}

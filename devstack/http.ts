/** A minimal HTTP(S) GET for health checks, with the client certificate the control plane wants. */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

export interface GetResult {
  status: number;
  body: string;
}

export function httpGet(url: string, tls: RequestOptions = {}, timeoutMs = 2000): Promise<GetResult> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { ...tls, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export async function answersOk(url: string, tls: RequestOptions = {}): Promise<boolean> {
  return (await httpGet(url, tls)).status === 200;
}

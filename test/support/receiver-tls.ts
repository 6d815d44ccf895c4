/**
 * Mutual TLS for the watcher's alert receiver in tests: certificates made with openssl
 * (devstack/pki.ts) — a CA that signs the receiver's serving certificate (for 127.0.0.1) and
 * Alertmanager's client certificate, and another CA with a client certificate of the same name —
 * and a POST over HTTPS that trusts the receiver's CA and presents a client certificate if given.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, type KeyPair, signCertificate } from '../../devstack/pki.ts';

export interface ReceiverCertificates {
  ca: KeyPair;
  server: KeyPair;
  alertmanager: KeyPair;
  /** Signed by another CA, with Alertmanager's own name: a forgery. */
  stranger: KeyPair;
}

export function receiverCertificates(): ReceiverCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'kubemedic-alert-mtls-'));
  const pair = (name: string): KeyPair => ({ cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) });
  const [ca, otherCa, server, alertmanager, stranger] = [
    'ca',
    'other-ca',
    'server',
    'alertmanager',
    'stranger',
  ].map(pair) as [KeyPair, KeyPair, KeyPair, KeyPair, KeyPair];
  const client = 'extendedKeyUsage=clientAuth\n';
  createCa(ca, 'kubemedic-alert-receiver-test-ca', 1);
  createCa(otherCa, 'someone-else-ca', 1);
  signCertificate(
    ca,
    server,
    '/CN=kubemedic-watcher',
    `subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`,
    1,
  );
  signCertificate(ca, alertmanager, '/CN=alertmanager', client, 1);
  signCertificate(otherCa, stranger, '/CN=alertmanager', client, 1);
  return { ca, server, alertmanager, stranger };
}

/** POSTs `body` to `url` over HTTPS, trusting `ca`, presenting `client` if given. */
export function postHttps(
  url: string,
  body: string,
  ca: KeyPair,
  client?: KeyPair,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: readFileSync(ca.cert),
        ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

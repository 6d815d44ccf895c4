/**
 * Certificates and keys for the local Kubernetes control plane, made with the openssl CLI as
 * controller-runtime's envtest makes them: one CA that signs the API server's serving
 * certificate, the admin client certificate (group system:masters) and the front-proxy client
 * the aggregation layer uses; plus the service-account signing key pair.
 * Existing files are kept, so a second `up` reuses them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from './config.ts';

export const pki = {
  caCert: join(paths.pki, 'ca.crt'),
  caKey: join(paths.pki, 'ca.key'),
  servingCert: join(paths.pki, 'apiserver.crt'),
  servingKey: join(paths.pki, 'apiserver.key'),
  adminCert: join(paths.pki, 'admin.crt'),
  adminKey: join(paths.pki, 'admin.key'),
  frontProxyCert: join(paths.pki, 'front-proxy-client.crt'),
  frontProxyKey: join(paths.pki, 'front-proxy-client.key'),
  serviceAccountKey: join(paths.pki, 'sa.key'),
  serviceAccountPub: join(paths.pki, 'sa.pub'),
};

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface KeyPair {
  cert: string;
  key: string;
}

/** A self-signed CA certificate and its key. */
export function createCa(ca: KeyPair, commonName: string, days: number): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    String(days),
    '-subj',
    `/CN=${commonName}`,
    '-keyout',
    ca.key,
    '-out',
    ca.cert,
  );
}

/** A key and a certificate for `subject`, signed by `ca`, with the given X.509 v3 extensions. */
export function signCertificate(
  ca: KeyPair,
  pair: KeyPair,
  subject: string,
  extensions: string,
  days: number,
): void {
  const csr = `${pair.cert}.csr`;
  const extFile = `${pair.cert}.ext`;
  writeFileSync(extFile, extensions);
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', pair.key, '-subj', subject, '-out', csr);
  openssl(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    String(days),
    '-extfile',
    extFile,
    '-out',
    pair.cert,
  );
}

const devstackCa = { cert: pki.caCert, key: pki.caKey };

/** Signs a devstack certificate unless it exists already. */
function ensureSigned(cert: string, key: string, subject: string, extensions: string): void {
  if (!existsSync(cert) || !existsSync(key))
    signCertificate(devstackCa, { cert, key }, subject, extensions, 3650);
}

export function ensurePki(): void {
  mkdirSync(paths.pki, { recursive: true });
  if (!existsSync(pki.caCert)) createCa(devstackCa, 'kubemedic-devstack-ca', 3650);
  ensureSigned(
    pki.servingCert,
    pki.servingKey,
    '/CN=kube-apiserver',
    'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' +
      'extendedKeyUsage=serverAuth\n',
  );
  ensureSigned(
    pki.adminCert,
    pki.adminKey,
    '/O=system:masters/CN=kubemedic-admin',
    'extendedKeyUsage=clientAuth\n',
  );
  ensureSigned(
    pki.frontProxyCert,
    pki.frontProxyKey,
    '/CN=front-proxy-client',
    'extendedKeyUsage=clientAuth\n',
  );
  if (!existsSync(pki.serviceAccountKey)) {
    openssl('genrsa', '-out', pki.serviceAccountKey, '2048');
    openssl('rsa', '-in', pki.serviceAccountKey, '-pubout', '-out', pki.serviceAccountPub);
  }
}

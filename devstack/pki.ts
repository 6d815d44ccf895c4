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

function signedCertificate(cert: string, key: string, subject: string, extensions: string): void {
  if (existsSync(cert) && existsSync(key)) return;
  const csr = `${cert}.csr`;
  const extFile = `${cert}.ext`;
  writeFileSync(extFile, extensions);
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', subject, '-out', csr);
  openssl(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    pki.caCert,
    '-CAkey',
    pki.caKey,
    '-CAcreateserial',
    '-days',
    '3650',
    '-extfile',
    extFile,
    '-out',
    cert,
  );
}

export function ensurePki(): void {
  mkdirSync(paths.pki, { recursive: true });
  if (!existsSync(pki.caCert)) {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=kubemedic-devstack-ca',
      '-keyout',
      pki.caKey,
      '-out',
      pki.caCert,
    );
  }
  signedCertificate(
    pki.servingCert,
    pki.servingKey,
    '/CN=kube-apiserver',
    'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' +
      'extendedKeyUsage=serverAuth\n',
  );
  signedCertificate(
    pki.adminCert,
    pki.adminKey,
    '/O=system:masters/CN=kubemedic-admin',
    'extendedKeyUsage=clientAuth\n',
  );
  signedCertificate(
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

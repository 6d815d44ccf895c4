/**
 * How the worker and the watcher reach Temporal, from the environment the chart sets:
 * TEMPORAL_ADDRESS and, for a Temporal that wants them, mutual TLS (TEMPORAL_TLS_CERT and
 * TEMPORAL_TLS_KEY, paths to the client certificate and key; TEMPORAL_TLS_CA, a path to the CA
 * that signed the server's certificate; TEMPORAL_TLS_SERVER_NAME to override the name checked)
 * or an API key (TEMPORAL_API_KEY, as Temporal Cloud issues them; TLS is then on by default).
 * The options suit both the client's Connection and the worker's NativeConnection.
 */
import { readFileSync } from 'node:fs';

export interface TemporalConnectionOptions {
  address: string;
  tls?: {
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
    serverNameOverride?: string;
  };
  apiKey?: string;
}

export function temporalConnectionOptions(env: NodeJS.ProcessEnv = process.env): TemporalConnectionOptions {
  const set = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const [cert, key, ca, serverName] = [
    set('TEMPORAL_TLS_CERT'),
    set('TEMPORAL_TLS_KEY'),
    set('TEMPORAL_TLS_CA'),
    set('TEMPORAL_TLS_SERVER_NAME'),
  ];
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both or neither');
  }
  const tls =
    cert !== undefined || ca !== undefined || serverName !== undefined
      ? {
          serverRootCACertificate: ca === undefined ? undefined : readFileSync(ca),
          clientCertPair:
            cert === undefined || key === undefined
              ? undefined
              : { crt: readFileSync(cert), key: readFileSync(key) },
          serverNameOverride: serverName,
        }
      : undefined;
  return { address: set('TEMPORAL_ADDRESS') ?? '127.0.0.1:7233', tls, apiKey: set('TEMPORAL_API_KEY') };
}

export const temporalNamespace = (env: NodeJS.ProcessEnv = process.env) =>
  env.TEMPORAL_NAMESPACE || 'default';

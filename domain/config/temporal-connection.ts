/**
 * How a process reaches Temporal: TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE and, for a Temporal
 * that wants them, mutual TLS (a client certificate and key, the CA that signed the server's
 * certificate, the server name to check) or an API key (as Temporal Cloud issues them; TLS is
 * then on by default). The worker, the watcher and the CLI read these same variables; the
 * options suit both the client's Connection and the worker's NativeConnection.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { z } from 'zod';
import { type Environment, optional, parseEnvironment, withDefault } from './environment.ts';

const readable = (path: string) => {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
};

const file = (what: string, unset = '') =>
  optional(z.string().refine(readable), {
    description: `${what} (PEM), for mutual TLS${unset}; the chart mounts it from temporal.tls.secretName.`,
    allowed: 'a path to a readable file',
    chart: 'temporal.tls',
  });

export const temporalVariables = {
  TEMPORAL_ADDRESS: withDefault(z.string().regex(/^\S+:\d{1,5}$/), {
    description: 'The Temporal frontend.',
    allowed: 'host:port',
    default: '127.0.0.1:7233',
    chart: 'temporal.address',
  }),
  TEMPORAL_NAMESPACE: withDefault(z.string(), {
    description: 'The Temporal namespace the runs live in; clusters can share one.',
    allowed: 'a Temporal namespace name',
    default: 'default',
    chart: 'temporal.namespace',
  }),
  TEMPORAL_TLS_CERT: file('The client certificate'),
  TEMPORAL_TLS_KEY: file("The client certificate's private key"),
  TEMPORAL_TLS_CA: file("The CA that signed the server's certificate", "; unset: the system's CAs"),
  TEMPORAL_TLS_SERVER_NAME: optional(z.string(), {
    description: "The name checked in the server's certificate, when it is not the address's host.",
    allowed: 'a DNS name',
    chart: 'temporal.tls.serverName',
  }),
  TEMPORAL_API_KEY: optional(z.string(), {
    description: 'An API key (Temporal Cloud), sent as a bearer token; TLS is then on by default.',
    allowed: 'the key',
    chart: 'temporal.apiKey (from a Secret)',
  }),
};

/** Checks across the Temporal variables, for a process schema that includes them. */
export function checkTemporalVariables(
  values: Record<string, unknown>,
  context: z.core.$RefinementCtx,
): void {
  if ((values.TEMPORAL_TLS_CERT === undefined) !== (values.TEMPORAL_TLS_KEY === undefined)) {
    context.addIssue({
      code: 'custom',
      message: 'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both or neither',
    });
  }
}

const temporalEnvironment = z.object(temporalVariables).superRefine(checkTemporalVariables);
type TemporalVariables = z.output<typeof temporalEnvironment>;

/** Where Temporal is and how to authenticate; the files are read when a connection is made. */
export interface TemporalConfig {
  address: string;
  namespace: string;
  tls?: { cert?: string; key?: string; ca?: string; serverName?: string };
  apiKey?: string;
}

export function temporalConfig(variables: TemporalVariables): TemporalConfig {
  const { TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca } = variables;
  const serverName = variables.TEMPORAL_TLS_SERVER_NAME;
  const tls = cert !== undefined || ca !== undefined || serverName !== undefined;
  return {
    address: variables.TEMPORAL_ADDRESS,
    namespace: variables.TEMPORAL_NAMESPACE,
    tls: tls ? { cert, key, ca, serverName } : undefined,
    apiKey: variables.TEMPORAL_API_KEY,
  };
}

export interface TemporalConnectionOptions {
  address: string;
  tls?: {
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
    serverNameOverride?: string;
  };
  apiKey?: string;
}

/** The connection options, with the certificate files read now (a rotated file is read again on the next start). */
export function connectionOptions({ address, tls, apiKey }: TemporalConfig): TemporalConnectionOptions {
  return {
    address,
    tls: tls && {
      serverRootCACertificate: tls.ca === undefined ? undefined : readFileSync(tls.ca),
      clientCertPair:
        tls.cert === undefined || tls.key === undefined
          ? undefined
          : { crt: readFileSync(tls.cert), key: readFileSync(tls.key) },
      serverNameOverride: tls.serverName,
    },
    apiKey,
  };
}

/** The options from an environment alone, as the chart sets it (the tests' way in). */
export const temporalConnectionOptions = (env: Environment) =>
  connectionOptions(temporalConfig(parseEnvironment(temporalEnvironment, env)));

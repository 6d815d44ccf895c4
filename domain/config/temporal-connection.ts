/**
 * How a process reaches Temporal, as Temporal's own clients do (@temporalio/envconfig): a
 * profile of a `temporal.toml` file (the `temporal` CLI's, ~/.config/temporalio/temporal.toml or
 * TEMPORAL_CONFIG_FILE; TEMPORAL_PROFILE picks one), overridden by the standard TEMPORAL_*
 * variables, then KubeMedic's defaults (127.0.0.1:7233, namespace default). For a Temporal that
 * wants them: mutual TLS (client certificate and key, the CA that signed the server's
 * certificate, the server name to check) or an API key (TLS is then on by default).
 *
 * TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY and TEMPORAL_TLS_CA, the names KubeMedic used before it
 * followed envconfig, still work as aliases of the standard *_PATH names.
 * The worker, the watcher and the CLI read these same variables; the options suit both the
 * client's Connection and the worker's NativeConnection.
 */
import type { TLSConfig } from '@temporalio/client';
import { type ClientConfigProfile, loadClientConfigProfile, toClientOptions } from '@temporalio/envconfig';
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigurationError, type Environment, optional, parseEnvironment } from './environment.ts';

const defaultAddress = '127.0.0.1:7233';
const defaultNamespace = 'default';

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

/** An older name that still works, documented as what it stands for. */
const alias = (standard: string) =>
  optional(z.string().refine(readable), {
    description: `Older name of ${standard}, still read; setting both is an error.`,
    allowed: 'a path to a readable file',
  });

const aliases = {
  TEMPORAL_TLS_CERT: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  TEMPORAL_TLS_CA: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
} as const;

export const temporalVariables = {
  TEMPORAL_ADDRESS: optional(z.string().regex(/^\S+:\d{1,5}$/), {
    description: `The Temporal frontend. Unset: the profile's address, else ${defaultAddress}.`,
    allowed: 'host:port',
    chart: 'temporal.address',
  }),
  TEMPORAL_NAMESPACE: optional(z.string(), {
    description: `The Temporal namespace the runs live in; clusters can share one. Unset: the profile's, else ${defaultNamespace}.`,
    allowed: 'a Temporal namespace name',
    chart: 'temporal.namespace',
  }),
  TEMPORAL_CONFIG_FILE: optional(z.string().refine(readable), {
    description:
      "Temporal's client configuration file (TOML, as the temporal CLI writes it). Unset: $XDG_CONFIG_HOME/temporalio/temporal.toml (~/.config/temporalio/temporal.toml) if it exists. The TEMPORAL_* variables override what it says.",
    allowed: 'a path to a readable file',
  }),
  TEMPORAL_PROFILE: optional(z.string(), {
    description:
      'The profile of the configuration file to use; unset: default. A profile that is not there is an error.',
    allowed: 'a profile name',
  }),
  TEMPORAL_TLS: optional(z.enum(['true', 'false', '1', '0']), {
    description:
      'Turns TLS on or off whatever else says (TLS is on when any TLS setting or an API key is given).',
    allowed: 'true, false, 1 or 0',
  }),
  TEMPORAL_TLS_CLIENT_CERT_PATH: file('The client certificate'),
  TEMPORAL_TLS_CLIENT_KEY_PATH: file("The client certificate's private key"),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: file(
    "The CA that signed the server's certificate",
    "; unset: the system's CAs",
  ),
  TEMPORAL_TLS_CERT: alias('TEMPORAL_TLS_CLIENT_CERT_PATH'),
  TEMPORAL_TLS_KEY: alias('TEMPORAL_TLS_CLIENT_KEY_PATH'),
  TEMPORAL_TLS_CA: alias('TEMPORAL_TLS_SERVER_CA_CERT_PATH'),
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
  // Where the default temporal.toml is looked for, as envconfig and the temporal CLI look.
  XDG_CONFIG_HOME: optional(z.string(), {
    description: 'Where the default temporal.toml is looked for (temporalio/temporal.toml under it).',
    allowed: 'a directory',
  }),
  HOME: optional(z.string(), {
    description: 'Unset XDG_CONFIG_HOME: the default temporal.toml is ~/.config/temporalio/temporal.toml.',
    allowed: 'a directory',
  }),
};

/** Checks across the Temporal variables, for a process schema that includes them. */
export function checkTemporalVariables(
  values: Record<string, unknown>,
  context: z.core.$RefinementCtx,
): void {
  for (const [old, standard] of Object.entries(aliases)) {
    if (values[old] !== undefined && values[standard] !== undefined) {
      context.addIssue({
        code: 'custom',
        message: `${old} is the older name of ${standard}: set one of them`,
      });
    }
  }
}

const temporalEnvironment = z.object(temporalVariables).superRefine(checkTemporalVariables);
type TemporalVariables = z.output<typeof temporalEnvironment>;

/**
 * Where Temporal is and how to authenticate: the resolved profile. Certificate files are named
 * here and read when a connection is made (a rotated file is read again on the next start).
 */
export interface TemporalConfig extends ClientConfigProfile {
  address: string;
  namespace: string;
}

/** The temporal.toml to read: TEMPORAL_CONFIG_FILE, else the default one if it exists. */
function configFile(variables: TemporalVariables): string | undefined {
  if (variables.TEMPORAL_CONFIG_FILE !== undefined) return variables.TEMPORAL_CONFIG_FILE;
  const base =
    variables.XDG_CONFIG_HOME ?? (variables.HOME === undefined ? undefined : join(variables.HOME, '.config'));
  const path = base === undefined ? undefined : join(base, 'temporalio', 'temporal.toml');
  return path !== undefined && existsSync(path) ? path : undefined;
}

/** The variables as envconfig names them: only these, checked above, and the aliases under their standard names. */
function standardVariables(variables: TemporalVariables): Record<string, string> {
  const names: Record<string, string | undefined> = {
    TEMPORAL_ADDRESS: variables.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: variables.TEMPORAL_NAMESPACE,
    TEMPORAL_API_KEY: variables.TEMPORAL_API_KEY,
    TEMPORAL_PROFILE: variables.TEMPORAL_PROFILE,
    TEMPORAL_TLS: variables.TEMPORAL_TLS,
    TEMPORAL_TLS_SERVER_NAME: variables.TEMPORAL_TLS_SERVER_NAME,
    TEMPORAL_TLS_CLIENT_CERT_PATH: variables.TEMPORAL_TLS_CLIENT_CERT_PATH ?? variables.TEMPORAL_TLS_CERT,
    TEMPORAL_TLS_CLIENT_KEY_PATH: variables.TEMPORAL_TLS_CLIENT_KEY_PATH ?? variables.TEMPORAL_TLS_KEY,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: variables.TEMPORAL_TLS_SERVER_CA_CERT_PATH ?? variables.TEMPORAL_TLS_CA,
  };
  return Object.fromEntries(
    Object.entries(names).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/** The profile: temporal.toml, then the variables over it, then KubeMedic's defaults. */
export function temporalConfig(variables: TemporalVariables): TemporalConfig {
  const path = configFile(variables);
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({
      overrideEnvVars: standardVariables(variables),
      ...(path === undefined ? { disableFile: true } : { configSource: { path } }),
    });
  } catch (error) {
    // A profile that is not in the file, or a file that is not TOML envconfig understands.
    throw new ConfigurationError([`${path ?? 'the Temporal configuration'}: ${(error as Error).message}`]);
  }
  const { clientCert, clientKey } = profile.tls ?? {};
  if ((clientCert === undefined) !== (clientKey === undefined)) {
    throw new ConfigurationError([
      'the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH or TEMPORAL_TLS_CERT) and its key (TEMPORAL_TLS_CLIENT_KEY_PATH or TEMPORAL_TLS_KEY) go together: set both or neither',
    ]);
  }
  return {
    ...profile,
    address: profile.address ?? defaultAddress,
    namespace: profile.namespace ?? defaultNamespace,
  };
}

export interface TemporalConnectionOptions {
  address: string;
  /** true: TLS with the system's CAs (an API key alone); false: TLS turned off by TEMPORAL_TLS. */
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/** envconfig reads the files into Uint8Arrays; the SDK's TLS options are Buffers. */
const buffer = (data: Uint8Array | undefined) => (data === undefined ? undefined : Buffer.from(data));
const withBuffers = ({
  serverRootCACertificate,
  clientCertPair,
  serverNameOverride,
}: TLSConfig): TLSConfig => ({
  serverNameOverride,
  serverRootCACertificate: buffer(serverRootCACertificate),
  clientCertPair: clientCertPair && {
    crt: Buffer.from(clientCertPair.crt),
    key: Buffer.from(clientCertPair.key),
  },
});

/** The connection options, with the certificate files read now. */
export function connectionOptions(config: TemporalConfig): TemporalConnectionOptions {
  const { connectionOptions: options } = toClientOptions(config);
  return {
    address: config.address,
    tls:
      typeof options.tls === 'object' && options.tls !== null
        ? withBuffers(options.tls)
        : (options.tls ?? undefined),
    apiKey: typeof options.apiKey === 'string' ? options.apiKey : undefined,
    metadata: config.grpcMeta,
  };
}

/** The options from an environment alone, as the chart sets it (the tests' way in). */
export const temporalConnectionOptions = (env: Environment) =>
  connectionOptions(temporalConfig(parseEnvironment(temporalEnvironment, env)));

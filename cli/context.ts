/**
 * What every command gets: the global flags, the output, and lazily made connections to
 * Temporal and Kubernetes whose failures say how to fix them (exit code 5).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import type { CliConfig } from '../domain/config/cli.ts';
import { connectionOptions, type TemporalConfig } from '../domain/config/temporal-connection.ts';
import { messageOf, unreachable } from './errors.ts';
import type { Output } from './output.ts';

/** The configuration (domain/config/cli.ts) with the global flags applied over it. */
export interface GlobalFlags {
  json: boolean;
  cluster: string;
  temporal: TemporalConfig;
  kubeconfig?: string;
  /** Who acts when --by is not given. */
  user: string;
}

export interface Context {
  flags: GlobalFlags;
  out: Output;
  temporal(): Promise<Client>;
  kubeconfig(): KubeConfig;
  close(): Promise<void>;
}

export const globalOptions = {
  json: { type: 'boolean' },
  cluster: { type: 'string' },
  address: { type: 'string' },
  'temporal-namespace': { type: 'string' },
  kubeconfig: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function globalFlags(values: Record<string, unknown>, config: CliConfig): GlobalFlags {
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  return {
    json: values.json === true,
    cluster: text('cluster') ?? config.cluster,
    temporal: {
      ...config.temporal,
      address: text('address') ?? config.temporal.address,
      namespace: text('temporal-namespace') ?? config.temporal.namespace,
    },
    kubeconfig: text('kubeconfig') ?? config.kubeconfig,
    user: config.user,
  };
}

export const temporalFix = (address: string) =>
  `cannot reach Temporal at ${address}: start the local stack with \`npm run devstack -- up\`, ` +
  'or point the CLI at your Temporal with --address or TEMPORAL_ADDRESS';

export function createContext(flags: GlobalFlags, out: Output): Context {
  let connection: Connection | undefined;
  let client: Client | undefined;
  let kubeconfig: KubeConfig | undefined;
  return {
    flags,
    out,
    async temporal() {
      if (client) return client;
      try {
        connection = await Connection.connect({
          ...connectionOptions(flags.temporal),
          connectTimeout: '5 seconds',
        });
      } catch (error) {
        throw unreachable(`${temporalFix(flags.temporal.address)} (${messageOf(error)})`);
      }
      client = new Client({ connection, namespace: flags.temporal.namespace });
      return client;
    },
    kubeconfig() {
      if (kubeconfig) return kubeconfig;
      const loaded = new KubeConfig();
      try {
        if (flags.kubeconfig) loaded.loadFromFile(flags.kubeconfig);
        else loaded.loadFromDefault();
      } catch (error) {
        throw unreachable(
          `cannot load the kubeconfig ${flags.kubeconfig ?? '~/.kube/config'} ` +
            `(${messageOf(error)}): choose one with --kubeconfig or KUBECONFIG ` +
            '(for the local stack: `source .devstack/env`)',
        );
      }
      kubeconfig = loaded;
      return kubeconfig;
    },
    async close() {
      await connection?.close();
    },
  };
}

/**
 * Turns "the API server is not there" into exit code 5 with the fix. The Kubernetes client uses
 * fetch, which fails with "fetch failed" and the network error as its cause.
 */
export function kubeUnreachable(context: Context, error: unknown): Error {
  if (!(error instanceof TypeError && error.message === 'fetch failed')) return error as Error;
  const server = context.kubeconfig().getCurrentCluster()?.server ?? 'the API server';
  return unreachable(
    `cannot reach Kubernetes at ${server} (${messageOf(error.cause)}): start the local stack with ` +
      '`npm run devstack -- up`, or choose the cluster with --kubeconfig or KUBECONFIG',
  );
}

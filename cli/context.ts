/**
 * What every command gets: the global flags, the output, and lazily made connections to
 * Temporal and Kubernetes whose failures say how to fix them (exit code 5). The two clients are
 * imported when first asked for, so `--version`, help and completion start without loading them
 * (in the bundle they are chunks of their own: see cli/package/build.ts).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Client, Connection } from '@temporalio/client';
import type { CliConfig } from '../domain/config/cli.ts';
import type { TemporalConfig } from '../domain/config/temporal-connection.ts';
import { commonJs } from './common-js.ts';
import { messageOf, unreachable, usageError } from './errors.ts';
import { currentSituation, kubeconfigFix, kubernetesFix, temporalFix } from './next-steps.ts';
import type { Output } from './output.ts';

/** The configuration (domain/config/cli.ts) with the global flags applied over it. */
export interface GlobalFlags {
  cluster: string;
  temporal: TemporalConfig;
  kubeconfig?: string;
  /** The kubeconfig context to use instead of its current-context (--context, as kubectl's). */
  kubeContext?: string;
  /** Who acts when --by is not given. */
  user: string;
}

export interface Context {
  flags: GlobalFlags;
  out: Output;
  temporal(): Promise<Client>;
  kubeconfig(): Promise<KubeConfig>;
  close(): Promise<void>;
}

export const globalOptions = {
  output: { type: 'string', short: 'o' },
  // The first output flag, kept for scripts: -o json.
  json: { type: 'boolean' },
  version: { type: 'boolean' },
  context: { type: 'string' },
  cluster: { type: 'string' },
  address: { type: 'string' },
  'temporal-namespace': { type: 'string' },
  kubeconfig: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function globalFlags(values: Record<string, unknown>, config: CliConfig): GlobalFlags {
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  return {
    cluster: text('cluster') ?? config.cluster,
    temporal: {
      ...config.temporal,
      address: text('address') ?? config.temporal.address,
      namespace: text('temporal-namespace') ?? config.temporal.namespace,
    },
    kubeconfig: text('kubeconfig') ?? config.kubeconfig,
    kubeContext: text('context'),
    user: config.user,
  };
}

export function createContext(flags: GlobalFlags, out: Output): Context {
  let connection: Connection | undefined;
  let client: Client | undefined;
  let kubeconfig: KubeConfig | undefined;
  return {
    flags,
    out,
    async temporal() {
      if (client) return client;
      const { Client, Connection } = commonJs(await import('@temporalio/client'));
      const { connectionOptions } = await import('../domain/config/temporal-connection.ts');
      try {
        connection = await Connection.connect({
          ...connectionOptions(flags.temporal),
          connectTimeout: '5 seconds',
        });
      } catch (error) {
        throw unreachable(`${temporalFix(flags.temporal.address, currentSituation())} (${messageOf(error)})`);
      }
      client = new Client({ connection, namespace: flags.temporal.namespace });
      return client;
    },
    async kubeconfig() {
      if (kubeconfig) return kubeconfig;
      const { KubeConfig } = await import('@kubernetes/client-node');
      const loaded = new KubeConfig();
      try {
        if (flags.kubeconfig) loaded.loadFromFile(flags.kubeconfig);
        else loaded.loadFromDefault();
      } catch (error) {
        throw unreachable(
          `cannot load the kubeconfig ${flags.kubeconfig ?? '~/.kube/config'} ` +
            `(${messageOf(error)}): ${kubeconfigFix(currentSituation())}`,
        );
      }
      if (flags.kubeContext !== undefined) useContext(loaded, flags.kubeContext, flags.kubeconfig);
      kubeconfig = loaded;
      return kubeconfig;
    },
    async close() {
      await connection?.close();
    },
  };
}

/**
 * Turns "the API server is not there" into exit code 5 with the fix. The typed Kubernetes client
 * uses fetch, which fails with "fetch failed" and the network error as its cause; raw requests
 * (domain/kube/request.ts, as restore makes them) fail with the network error itself.
 */
export function kubeUnreachable(kubeconfig: KubeConfig, error: unknown): Error {
  const network = networkErrorOf(error);
  if (network === undefined) return error as Error;
  const server = kubeconfig.getCurrentCluster()?.server ?? 'the API server';
  return unreachable(
    `${kubernetesFix(server, kubeconfig.getCurrentContext(), currentSituation())} (${messageOf(network)})`,
  );
}

/** Codes of Node's socket and DNS errors: nothing answered, as opposed to an answer that refused. */
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

export function networkErrorOf(error: unknown): unknown {
  if (error instanceof TypeError && error.message === 'fetch failed') return error.cause;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && networkCodes.has(code) ? error : undefined;
}

/** --context: a context of the kubeconfig, as kubectl's flag; one it lacks is a usage error naming those it has. */
function useContext(kubeconfig: KubeConfig, name: string, path: string | undefined): void {
  const known = kubeconfig.getContexts().map((c) => c.name);
  if (!known.includes(name)) {
    throw usageError(
      `--context ${name}: the kubeconfig ${path ?? '~/.kube/config'} has no such context; ` +
        (known.length > 0 ? `it has ${known.join(', ')}` : 'it has none') +
        ' (`kubectl config get-contexts` lists them)',
    );
  }
  kubeconfig.setCurrentContext(name);
}

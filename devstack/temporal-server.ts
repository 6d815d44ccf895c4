/**
 * The production-shaped Temporal beside the dev server: `temporal-server` (go.temporal.io/server,
 * built by devstack/build.sh) on PostgreSQL (postgres.ts) for both its default and visibility
 * stores, as a self-hosted cluster runs it, but with all four services (frontend, history,
 * matching, worker) in one process and 4 history shards to fit the 2-core machine.
 *
 * Before it starts: its configuration files, then its two databases and their schemas made and
 * brought up to date with temporal-sql-tool from the schema files that ship in the server's
 * module (copied beside the tool by build.sh; nothing is downloaded at run time). Once it runs:
 * the `default` namespace and KubeMedic's search attributes, registered unless already there.
 * Every step checks first, so a second `up` changes nothing.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { stringify } from 'yaml';
import { binary, paths, ports } from './config.ts';
import { answersOk } from './http.ts';
import { postgresQuery as sql, postgresRole } from './postgres.ts';
import { waitFor } from './processes.ts';
import type { Server } from './servers.ts';
import { searchAttributes } from '../domain/search-attributes.ts';

const loopback = '127.0.0.1';
export const temporalServerAddress = () => `${loopback}:${ports.temporalServer}`;
export const temporalServerNamespace = 'default';
const configFile = () => join(paths.config, 'temporal-server.yaml');
const dynamicConfigFile = () => join(paths.config, 'temporal-server-dynamic.yaml');
const databases = { default: 'temporal', visibility: 'temporal_visibility' } as const;

/** The versioned PostgreSQL schema of a store, as it ships in the server's module (build.sh copies it). */
export function schemaDir(store: keyof typeof databases): string {
  const folder = store === 'default' ? 'temporal' : 'visibility';
  const dir = join(dirname(binary('temporal-sql-tool')), 'schema', 'postgresql', 'v12', folder, 'versioned');
  if (!existsSync(dir)) {
    throw new Error(
      `${dir} is missing: run devstack/build.sh (it copies the schema beside temporal-sql-tool)`,
    );
  }
  return dir;
}

function sqlStore(database: string, maxConns: number) {
  return {
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `${loopback}:${ports.postgres}`,
      connectProtocol: 'tcp',
      user: postgresRole.user,
      password: postgresRole.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  };
}

const service = (grpcPort: number, membershipPort: number, extra: object = {}) => ({
  rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
});

/** The server's static configuration (the shape of the module's config/development-postgres12.yaml). */
export function writeTemporalServerConfig(): void {
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      // Fixed for the life of a cluster: production sizes it for its peak (512 and up); 4 is
      // enough for one process on 2 cores, and each shard costs a little CPU even when idle.
      numHistoryShards: 4,
      datastores: {
        'postgres-default': sqlStore(databases.default, 20),
        'postgres-visibility': sqlStore(databases.visibility, 10),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: loopback },
      metrics: {
        prometheus: {
          framework: 'tally',
          timerType: 'histogram',
          listenAddress: `${loopback}:${ports.temporalServerMetrics}`,
        },
      },
    },
    services: {
      frontend: service(ports.temporalServer, ports.temporalServerFrontendMembership, {
        httpPort: ports.temporalServerHttp,
      }),
      history: service(ports.temporalServerHistory, ports.temporalServerHistoryMembership),
      matching: service(ports.temporalServerMatching, ports.temporalServerMatchingMembership),
      worker: service(ports.temporalServerWorker, ports.temporalServerWorkerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: temporalServerAddress(),
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfigFile(), pollInterval: '10s' },
  };
  writeFileSync(configFile(), stringify(config));
  // The defaults hold but one: 10 visibility requests per second per namespace, which the tests
  // and the bench (several watchers listing runs at once) exceed; the dev server allows 100 too.
  writeFileSync(dynamicConfigFile(), stringify({ 'frontend.namespaceRPS.visibility': [{ value: 100 }] }));
}

const run = promisify(execFile);

async function sqlTool(database: string, ...command: string[]): Promise<void> {
  await run(binary('temporal-sql-tool'), [
    '--plugin',
    'postgres12',
    '--endpoint',
    loopback,
    '--port',
    String(ports.postgres),
    '--user',
    postgresRole.user,
    '--password',
    postgresRole.password,
    '--database',
    database,
    ...command,
  ]);
}

/**
 * Creates each database and its versioned schema when missing, then updates it to the newest
 * version the module ships (update-schema applies only the versions above the one recorded, so
 * it is a no-op on a current schema).
 */
export async function ensureTemporalSchemas(log: (line: string) => void): Promise<void> {
  for (const store of Object.keys(databases) as (keyof typeof databases)[]) {
    const database = databases[store];
    const exists = await sql('postgres', `SELECT 1 FROM pg_database WHERE datname = '${database}'`);
    if (exists !== '1') {
      await sqlTool(database, 'create-database');
      log(`temporal-server: database ${database} created`);
    }
    const versioned = await sql(database, `SELECT to_regclass('public.schema_version') IS NOT NULL`);
    if (versioned !== 't') await sqlTool(database, 'setup-schema', '-v', '0.0');
    await sqlTool(database, 'update-schema', '-d', schemaDir(store));
    const version = await sql(database, 'SELECT curr_version FROM schema_version');
    log(`temporal-server: ${database} schema at version ${version}`);
  }
}

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD (@temporalio/proto is not a dependency of ours). */
const keyword = 2;

/**
 * One step towards a namespace that holds KubeMedic's search attributes: registers what is
 * missing and answers true only once everything is there. The frontend may not answer yet, and
 * a namespace just registered reaches its cache some seconds later: callers poll it (waitFor).
 */
export async function ensureTemporalServerNamespace(): Promise<boolean> {
  const connection = await Connection.connect({ address: temporalServerAddress(), connectTimeout: 2_000 });
  try {
    const namespace = temporalServerNamespace;
    const known = await connection.workflowService
      .describeNamespace({ namespace })
      .then(() => true)
      .catch((error: { code?: number }) => {
        if (error.code === 5 /* NOT_FOUND */) return false;
        throw error;
      });
    if (!known) {
      // The dev server's retention for its `default` namespace (and the chart's seed): one day.
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs('1 day'),
      });
      return false;
    }
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = Object.values(searchAttributes).filter((key) => !(key.name in (customAttributes ?? {})));
    if (missing.length === 0) return true;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, keyword])),
    });
    return false;
  } finally {
    await connection.close();
  }
}

export const temporalServer: Server = {
  name: 'temporal-server',
  binary: 'temporal-server',
  ports: [
    ports.temporalServer,
    ports.temporalServerHttp,
    ports.temporalServerHistory,
    ports.temporalServerMatching,
    ports.temporalServerWorker,
    ports.temporalServerFrontendMembership,
    ports.temporalServerHistoryMembership,
    ports.temporalServerMatchingMembership,
    ports.temporalServerWorkerMembership,
    ports.temporalServerMetrics,
  ],
  url: `grpc://${temporalServerAddress()}`,
  prepare: async (log) => {
    writeTemporalServerConfig();
    await ensureTemporalSchemas(log);
  },
  args: () => ['--config-file', configFile(), '--allow-no-auth', 'start'],
  onceRunning: () => waitFor('temporal-server', ensureTemporalServerNamespace, 180_000),
  // Healthy once the frontend serves the namespace the tests use (HTTP API, as for the dev server).
  healthy: () =>
    answersOk(`http://${loopback}:${ports.temporalServerHttp}/api/v1/namespaces/${temporalServerNamespace}`),
};

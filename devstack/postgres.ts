/**
 * PostgreSQL for the production-shaped Temporal server (temporal-server.ts): Debian's cluster
 * binaries (package postgresql, 15 on bookworm) run directly, not as the system service. PostgreSQL
 * refuses to run as root, so initdb and the server run as the `postgres` system user the package
 * creates; the data directory lives under the stack's and belongs to that user. It listens on
 * 127.0.0.1 only, has no Unix socket (the stack's state directory need not be writable by it) and
 * asks every client for a password (scram-sha-256), as a database reached over a network would.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { binary, paths, ports } from './config.ts';
import { systemUser } from './processes.ts';
import type { Server } from './servers.ts';

/** One of Debian's cluster binaries beside `postgres` (the system-wide `pg_*` wrappers pick clusters of their own). */
export const postgresTool = (name: string) => join(dirname(binary('postgres')), name);
const loopback = '127.0.0.1';

const postgresUser = () => systemUser('postgres', "Debian's postgresql package");
/** The role Temporal connects as: the cluster's superuser, which temporal-sql-tool needs to create databases. */
export const postgresRole = { user: 'temporal', password: 'temporal' };

/**
 * Where the cluster keeps its data: under the stack's data directory when the postgres user can
 * reach it; else (a checkout under root's 0700 home, say) in that user's own home, in a folder
 * named for the stack's, so two stacks never share one.
 */
export function postgresDataDir(stackData = paths.data): string {
  // Reaching it is enough (every folder on the way searchable): its subfolder is made and handed over.
  const { uid, gid } = postgresUser();
  if (spawnSync('test', ['-x', stackData], { uid, gid }).status === 0) return join(stackData, 'postgres');
  const key = createHash('sha256').update(stackData).digest('hex').slice(0, 12);
  return join('/var/lib/postgresql', `kubemedic-${key}`);
}

/**
 * Makes the cluster once: a data directory that already holds PG_VERSION is kept as it is, so
 * a second `up` (or a restart after a crash) finds Temporal's databases where they were.
 */
export function ensurePostgresCluster(log: (line: string) => void): void {
  const dataDir = postgresDataDir();
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  const owner = postgresUser();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chownSync(dataDir, owner.uid, owner.gid);
  // initdb reads the superuser's password from a file; this one exists only while initdb runs.
  const scratch = mkdtempSync(join(tmpdir(), 'kubemedic-initdb-'));
  const passwordFile = join(scratch, 'password');
  writeFileSync(passwordFile, `${postgresRole.password}\n`, { mode: 0o600 });
  chownSync(scratch, owner.uid, owner.gid);
  chownSync(passwordFile, owner.uid, owner.gid);
  try {
    execFileSync(
      postgresTool('initdb'),
      [
        `--pgdata=${dataDir}`,
        `--username=${postgresRole.user}`,
        `--pwfile=${passwordFile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=peer',
        '--encoding=UTF8',
        '--no-locale',
      ],
      { uid: owner.uid, gid: owner.gid, cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true }); // a half-made cluster would be kept by the check above
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(
      `initdb failed as user postgres in ${dataDir} (removed, so the next up starts afresh): ` +
        (stderr.trim() || String(error)),
      { cause: error },
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  log(`postgres: cluster made in ${dataDir}`);
}

/** One SQL answer from the stack's PostgreSQL as Temporal's role, in psql's unaligned text. */
export async function postgresQuery(database: string, query: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    postgresTool('psql'),
    [
      `--host=${loopback}`,
      `--port=${ports.postgres}`,
      `--username=${postgresRole.user}`,
      `--dbname=${database}`,
      '--no-psqlrc',
      '--tuples-only',
      '--no-align',
      `--command=${query}`,
    ],
    { env: { ...process.env, PGPASSWORD: postgresRole.password } },
  );
  return stdout.trim();
}

/** True when the server accepts connections (pg_isready exits 0 then; 1 while it starts up). */
async function acceptsConnections(): Promise<boolean> {
  try {
    await promisify(execFile)(postgresTool('pg_isready'), [
      `--host=${loopback}`,
      `--port=${ports.postgres}`,
      '--quiet',
    ]);
    return true;
  } catch {
    return false;
  }
}

export const postgres: Server = {
  name: 'postgres',
  binary: 'postgres',
  ports: [ports.postgres],
  url: `postgresql://${postgresRole.user}@${loopback}:${ports.postgres}`,
  runAs: postgresUser,
  prepare: (log) => Promise.resolve(ensurePostgresCluster(log)),
  args: () => [
    '-D',
    postgresDataDir(),
    '-h',
    loopback,
    '-p',
    String(ports.postgres),
    '-k',
    '', // no Unix socket
    // Temporal's default store opens up to 20 connections and visibility 2 per service (four
    // services in one process), the sql tool one: the default 100 is room enough, said here
    // because it is the first limit a larger Temporal would meet.
    '-c',
    'max_connections=100',
    '-c',
    'log_min_messages=warning',
  ],
  healthy: acceptsConnections,
};

/**
 * Starts and stops the stack's servers as detached processes. Each start records the pid and
 * the binary in <state>/pids/<name>.json; `down` stops only a process whose pid still runs
 * that binary, so it never kills something it did not start (pids are reused).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { paths } from './config.ts';

interface PidRecord {
  pid: number;
  binary: string;
  startedAt: string;
}

const pidFile = (name: string) => join(paths.pids, `${name}.json`);
export const logFile = (name: string) => join(paths.logs, `${name}.log`);

/** The pid of the named server when the process we recorded still runs; otherwise undefined. */
export function runningPid(name: string): number | undefined {
  if (!existsSync(pidFile(name))) return undefined;
  const record = JSON.parse(readFileSync(pidFile(name), 'utf8')) as PidRecord;
  try {
    const exe = readlinkSync(`/proc/${record.pid}/exe`).replace(/ \(deleted\)$/, '');
    return exe === record.binary ? record.pid : undefined;
  } catch {
    return undefined;
  }
}

/** A system user's ids, from /etc/passwd, or an error that names the package that creates it. */
export function systemUser(name: string, createdBy: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (line === undefined)
    throw new Error(`no system user ${name}: run devstack/install.sh (${createdBy} creates it)`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Starts a detached server; as another system user when `runAs` says so (PostgreSQL refuses root). */
export function startProcess(
  name: string,
  binary: string,
  args: string[],
  cwd = paths.state,
  env: NodeJS.ProcessEnv = process.env,
  runAs?: { uid: number; gid: number },
): number {
  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.pids, { recursive: true });
  const log = openSync(logFile(name), 'a');
  const child = spawn(binary, args, { cwd, env, detached: true, stdio: ['ignore', log, log], ...runAs });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${binary})`);
  child.unref();
  const record: PidRecord = { pid: child.pid, binary, startedAt: new Date().toISOString() };
  writeFileSync(pidFile(name), JSON.stringify(record));
  return child.pid;
}

export async function stopProcess(name: string): Promise<boolean> {
  const pid = runningPid(name);
  rmSync(pidFile(name), { force: true });
  if (pid === undefined) return false;
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < 15_000; waited += 100) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  process.kill(pid, 'SIGKILL');
  return true;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; its /proc state says it is gone.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise(true)));
  });
}

/** Polls `check` until it answers true; fails with the server's log tail when it never does. */
export async function waitFor(name: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (runningPid(name) === undefined && existsSync(logFile(name))) {
      throw new Error(
        `${name} exited during start-up; last lines of ${logFile(name)}:\n${tail(logFile(name))}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${name} was not healthy after ${timeoutMs / 1000}s; see ${logFile(name)}:\n${tail(logFile(name))}`,
      );
    }
    await sleep(250);
  }
}

function tail(file: string, lines = 15): string {
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Runs the `kubemedic` CLI as a child process against the local stack, so tests see its real
 * output and exit code.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../devstack/config.ts';
import { environment } from '../../devstack/stack.ts';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `env` adds to (or overrides) the environment the CLI gets. */
export function kubemedic(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return kubemedicRunning(args, env).exited;
}

/** The result's stdout as JSON, failing with the whole result when it is not. */
export function jsonOf<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
  }
}

export interface RunningCli {
  /** What it has printed so far. */
  stdout(): string;
  /** Waits until stdout matches, failing with what it printed after `timeoutMs`. */
  printed(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` (SIGINT: Ctrl-C) and waits for its exit. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
  exited: Promise<CliResult>;
}

/** The CLI left running, for --watch: read its output as it comes, then stop it. */
export function kubemedicRunning(args: string[], env: Record<string, string> = {}): RunningCli {
  const { KUBECONFIG, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE } = environment();
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'cli/main.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, KUBECONFIG, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return {
    stdout: () => stdout,
    exited,
    async printed(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(stdout);
        if (match) return match;
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`never printed ${pattern} (exit ${child.exitCode}):\n${stdout}\n${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

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
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The result's stdout as JSON, failing with the whole result when it is not. */
export function jsonOf<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
  }
}

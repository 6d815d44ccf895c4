/**
 * `--watch` (-w) on `list` and `show`, as kubectl's: print, then print again what changed, until
 * Ctrl-C (exit 0, as kubectl's) or until the command says it is done (a shown run ended).
 * Polling Temporal's visibility and the run's status every two seconds: cheap for the server,
 * and a person watching does not need it faster.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export const watchOption = { watch: { type: 'boolean', short: 'w' } } as const;

export const watchIntervalMs = 2_000;

/** Calls `poll` now and every interval until it returns true or the process is interrupted. */
export async function watch(poll: () => Promise<boolean>, intervalMs = watchIntervalMs): Promise<void> {
  const interrupted = new AbortController();
  const stop = () => interrupted.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    while (!interrupted.signal.aborted && !(await poll())) {
      await sleep(intervalMs, undefined, { signal: interrupted.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/**
 * The one measurement helper of the suite: percentiles, the figure each benchmark reports (its
 * value beside its baseline from the same run, the ratio and the goal), and waiting for
 * something to happen without timing the wait itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles: p99 of fewer than 100 samples is their maximum. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('no samples to summarize');
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { n: sorted.length, min: sorted[0]!, p50: at(50), p99: at(99), max: sorted.at(-1)! };
}

/** One row of the table: a figure, its baseline measured in the same run, and the goal. */
export interface Figure {
  id: string;
  what: string;
  unit: string;
  value: number;
  /** What the value is compared with, measured in the same run (absent: the goal is absolute). */
  baseline?: { what: string; value: number };
  /** The goal as the issue words it, and whether this run met it (absent: no goal for this row). */
  goal?: { text: string; met: boolean };
  /** The Temporal server it was measured on, for the benchmarks measured on each (bench/index.ts). */
  temporal?: string;
  /** Anything else worth keeping in the JSON (samples' summaries, sizes, why a size stopped). */
  detail?: Record<string, unknown>;
}

export const ratioOf = (figure: Figure) =>
  figure.baseline && figure.baseline.value !== 0 ? figure.value / figure.baseline.value : undefined;

/** Calls `probe` until it answers something other than undefined; throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 60_000, everyMs = 25 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await probe();
    if (answer !== undefined) return answer;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Runs `fn` over `items`, at most `concurrency` at a time (creating thousands of Pods, say). */
export async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

/** CPU seconds (user + system) and RSS of this process, to subtract two readings. */
export function processUsage(): { cpuSeconds: number; rssBytes: number } {
  const { user, system } = process.cpuUsage();
  return { cpuSeconds: (user + system) / 1e6, rssBytes: process.memoryUsage().rss };
}

export const mb = (bytes: number) => bytes / 1024 / 1024;

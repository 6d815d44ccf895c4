/**
 * When a condition has held long enough to fire. Each (policy, target, condition) remembers
 * since when it has held; a reading that does not hold forgets it. Nothing is persisted: after
 * a watcher restart every condition starts holding anew, so a restart can delay a trigger but
 * never make one fire before its `for` duration.
 */
import type { ConditionReading } from '../domain/run.ts';

export class HoldTracker {
  private readonly since = new Map<string, number>();

  /** Records the readings at `nowMs` and answers which conditions have held for their `for`. */
  observe(key: string, readings: ConditionReading[], forMs: number[], nowMs: number): ConditionReading[] {
    return readings.map((reading, i) => {
      const id = `${key}#${reading.name}`;
      if (!reading.holds) {
        this.since.delete(id);
        return reading;
      }
      const start = this.since.get(id) ?? nowMs;
      this.since.set(id, start);
      return { ...reading, holds: nowMs - start >= (forMs[i] ?? 0) };
    });
  }

  /**
   * When the first of `readings` that holds but has not yet held for its `for` will have (ms
   * since the epoch), or Infinity: the watcher evaluates again then instead of on its interval.
   * Call after `observe` with the same readings.
   */
  nextFiring(key: string, readings: ConditionReading[], forMs: number[], nowMs: number): number {
    let next = Infinity;
    for (const [i, reading] of readings.entries()) {
      const start = reading.holds ? this.since.get(`${key}#${reading.name}`) : undefined;
      const at = start === undefined ? Infinity : start + (forMs[i] ?? 0);
      if (at > nowMs) next = Math.min(next, at);
    }
    return next;
  }

  /**
   * Forgets targets that are gone, so the map does not grow without bound: every key that starts
   * with `scope` and is not in `keys`. The watcher evaluates one policy at a time and passes that
   * policy's prefix, so evaluating one policy never resets the clocks of another.
   */
  retain(keys: Set<string>, scope = ''): void {
    for (const id of this.since.keys()) {
      const key = id.slice(0, id.lastIndexOf('#'));
      if (key.startsWith(scope) && !keys.has(key)) this.since.delete(id);
    }
  }
}

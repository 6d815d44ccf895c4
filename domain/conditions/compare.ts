/** Condition arithmetic shared by the watcher and the verify activity. */
import type { Condition } from '../../api/policy.ts';
import type { ConditionReading } from '../run.ts';

export function compare(value: number, operator: Condition['operator'], threshold: number): boolean {
  switch (operator) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

/** Whether readings combined by `match` hold. A reading without data never holds. */
export function combined(match: 'All' | 'Any', readings: ConditionReading[]): boolean {
  return match === 'All'
    ? readings.length > 0 && readings.every((r) => r.holds)
    : readings.some((r) => r.holds);
}

export const describeReadings = (readings: ConditionReading[]) =>
  readings
    .map((r) => `${r.name}=${r.value === null ? 'no data' : r.value}${r.holds ? ' (holds)' : ''}`)
    .join(', ');

/**
 * Gradual revert of a temporary action: numeric fields (replicas, HPA bounds) walk back to
 * their backed-up values in steps; every other field waits for the last step. Each step is the
 * same guarded restore as a rollback, so a change someone made in between is never overwritten.
 */
import type { ActionContext } from './action.ts';
import type { Backup, FieldSnapshot, RollbackResult } from '../../domain/actions.ts';
import { makeBackup, restoreFields } from './fields.ts';

/** The fields after `fraction` (0..1) of the way from what was written back to the backup. */
export function intermediateFields(
  backup: FieldSnapshot,
  written: FieldSnapshot,
  fraction: number,
): FieldSnapshot {
  return Object.fromEntries(
    Object.entries(written).map(([path, value]) => {
      const original = backup[path];
      if (typeof value !== 'number' || typeof original !== 'number') return [path, value];
      return [path, Math.round(value + (original - value) * fraction)];
    }),
  );
}

/**
 * Moves the fields to the step `fraction` of the way from what execute `wrote` back to the
 * backup, provided they still hold `current` (the previous step's values).
 */
export async function revertPartly(
  ctx: ActionContext,
  backup: Backup,
  wrote: FieldSnapshot,
  current: FieldSnapshot,
  fraction: number,
): Promise<RollbackResult & { written: FieldSnapshot }> {
  const target = intermediateFields(backup.fields, wrote, fraction);
  // restoreFields restores "a backup": here, the intermediate values, hashed like a real one.
  const step = makeBackup({
    ...backup,
    fields: { ...backup.fields, ...target },
    capturedAt: backup.capturedAt,
  });
  const result = await restoreFields(ctx, step, current);
  return { ...result, written: result.outcome === 'RollbackConflict' ? current : target };
}

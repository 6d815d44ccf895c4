/**
 * Field-level backup and restore shared by every action: read fields by JSON Pointer, hash a
 * backup, and restore with one JSON Patch whose `test` operations make the conflict check
 * atomic in the API server — a field someone changed after the action is never overwritten.
 */
import { createHash } from 'node:crypto';
import { failedWith } from '../../domain/kube/errors.ts';
import { kubeRequest, objectPath } from '../../domain/kube/request.ts';
import type { ActionContext } from './action.ts';
import { guardWrite } from './write-guard.ts';
import type { Backup, FieldSnapshot, ObjectRef, RollbackResult } from '../../domain/actions.ts';

export const escapePointerToken = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

/** The value at a JSON Pointer, or null when any part of the path is absent. */
export function readPointer(object: unknown, pointer: string): unknown {
  let current: unknown = object;
  for (const raw of pointer.split('/').slice(1)) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (current === null || typeof current !== 'object' || !(token in current)) return null;
    current = (current as Record<string, unknown>)[token];
  }
  return current === undefined ? null : current;
}

export function readFields(object: unknown, pointers: string[]): FieldSnapshot {
  return Object.fromEntries(pointers.map((p) => [p, readPointer(object, p)]));
}

/** JSON with object keys sorted, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export const sameValue = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

export function backupHash(object: ObjectRef, fields: FieldSnapshot): string {
  return createHash('sha256').update(canonicalJson({ object, fields })).digest('hex');
}

export function makeBackup(init: Omit<Backup, 'hash' | 'capturedAt'> & { capturedAt?: string }): Backup {
  return {
    ...init,
    hash: backupHash(init.object, init.fields),
    capturedAt: init.capturedAt ?? new Date().toISOString(),
  };
}

export function verifyBackup(backup: Backup): boolean {
  return backup.hash === backupHash(backup.object, backup.fields);
}

export async function readObject(
  ctx: Pick<ActionContext, 'kubeconfig'>,
  ref: ObjectRef,
): Promise<Record<string, unknown>> {
  return kubeRequest(ctx.kubeconfig, { method: 'GET', path: objectPath(ref) });
}

/**
 * Puts `backup.fields` back where every field still holds what the action wrote.
 * Outcomes: RolledBack; NothingToRestore when the fields already hold their backed-up values
 * (a retried rollback); RollbackConflict, naming each field someone else changed.
 */
export async function restoreFields(
  ctx: ActionContext,
  backup: Backup,
  written: FieldSnapshot,
  attempt = 1,
): Promise<RollbackResult> {
  if (!verifyBackup(backup)) {
    return {
      outcome: 'RollbackConflict',
      reason: 'the backup does not match its hash; refusing to restore from it',
      restored: {},
      conflicts: [],
    };
  }
  const current = await readObject(ctx, backup.object);
  const pointers = Object.keys(written);
  const conflicts = pointers
    .map((path) => ({ path, wrote: written[path], found: readPointer(current, path) }))
    .filter((c) => !sameValue(c.found, c.wrote) && !sameValue(c.found, backup.fields[c.path]));
  if (conflicts.length > 0) return conflictResult(conflicts);
  const toRestore = pointers.filter((p) => !sameValue(readPointer(current, p), backup.fields[p]));
  if (toRestore.length === 0) {
    return {
      outcome: 'NothingToRestore',
      reason: 'every field already holds its backed-up value',
      restored: {},
      conflicts: [],
    };
  }
  const patch = [
    ...guardsAgainstChangesSince(current, toRestore),
    ...toRestore.flatMap((path) => {
      const value = backup.fields[path];
      return value === null ? [{ op: 'remove', path }] : [{ op: 'add', path, value }];
    }),
  ];
  // The backup names the object to write: it comes back through the workflow, so it is held to
  // the run's bounds like any other write.
  await guardWrite(ctx, backup.object);
  try {
    await kubeRequest(ctx.kubeconfig, {
      method: 'PATCH',
      path: objectPath(backup.object),
      query: { fieldManager: 'kubemedic', dryRun: ctx.dryRun ? 'All' : undefined },
      body: patch,
      contentType: 'application/json-patch+json',
    });
  } catch (error) {
    // 409/422 on a failed test: the object moved since we read it. Read again and decide anew.
    const moved = failedWith(error, 409, 422);
    if (moved && attempt < maxRestoreAttempts) return restoreFields(ctx, backup, written, attempt + 1);
    throw error;
  }
  return {
    outcome: 'RolledBack',
    reason: `restored ${toRestore.join(', ')}`,
    restored: Object.fromEntries(toRestore.map((p) => [p, backup.fields[p]])),
    conflicts: [],
  };
}

const maxRestoreAttempts = 5;

/**
 * JSON Patch `test` operations that make the API server refuse the restore when a field we are
 * about to overwrite changed after our read. Each field that holds a value is tested for exactly
 * that value. A field that is absent cannot be tested for absence in JSON Patch, so then the
 * object's generation stands guard (it moves with every spec change and, unlike the
 * resourceVersion, not with the status writes controllers make all the time); an object without
 * a generation falls back to its resourceVersion.
 */
function guardsAgainstChangesSince(current: unknown, paths: string[]) {
  const present = paths.filter((p) => readPointer(current, p) !== null);
  const tests = present.map((path) => ({ op: 'test', path, value: readPointer(current, path) }));
  if (present.length === paths.length) return tests;
  const generation = readPointer(current, '/metadata/generation');
  const guard =
    generation === null
      ? {
          op: 'test',
          path: '/metadata/resourceVersion',
          value: readPointer(current, '/metadata/resourceVersion'),
        }
      : { op: 'test', path: '/metadata/generation', value: generation };
  return [...tests, guard];
}

function conflictResult(conflicts: RollbackResult['conflicts']): RollbackResult {
  const described = conflicts
    .map((c) => `${c.path} is ${canonicalJson(c.found)}, not the ${canonicalJson(c.wrote)} KubeMedic wrote`)
    .join('; ');
  return {
    outcome: 'RollbackConflict',
    reason: `someone changed the target after the action (${described}); their change is kept and nothing was restored`,
    restored: {},
    conflicts,
  };
}

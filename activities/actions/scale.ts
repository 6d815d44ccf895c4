/**
 * Scale a Deployment or StatefulSet: an absolute replica count, or a factor of the backed-up
 * count (rounded up), never above maxReplicas and never below 1. Written with server-side apply.
 */
import type { Action } from '../../api/policy.ts';
import { type ActionModule, parametersOf } from './action.ts';
import { applySpec, backupWorkload, executed, restoreWritten } from './workloads.ts';
import { guardScaleUp } from './scale-guards.ts';
import { readTarget } from './target.ts';
import { targetDisplay } from '../../domain/run.ts';

const replicasPointer = '/spec/replicas';

/** The replica count asked for, from the backed-up count, so a retried execute does not multiply twice. */
const wantedReplicas = (from: number, params: NonNullable<Action['scale']>) =>
  // The epsilon keeps float noise from rounding up: 10 × 1.1 is 11.000000000000002.
  params.replicas ?? Math.ceil(from * (params.factor ?? 1) - 1e-9);

export const desiredReplicas = (from: number, params: NonNullable<Action['scale']>) =>
  Math.max(1, Math.min(wantedReplicas(from, params), params.maxReplicas ?? Infinity));

export const scale: ActionModule = {
  type: 'Scale',
  backup: (ctx, target) => backupWorkload(ctx, target, 'Scale', () => [replicasPointer]),
  async execute(ctx, _target, action, backup) {
    const params = parametersOf(action, 'scale');
    const from = Number(backup.fields[replicasPointer] ?? 1);
    const desired = desiredReplicas(from, params);
    // Reading first also matters because an apply to a missing object would try to create it.
    const workload = await readTarget(ctx, backup.object);
    const guarded = await guardScaleUp(ctx, backup.object, workload, from, desired, params.maxFactor ?? 2);
    const to = guarded.to;
    const after = await applySpec(ctx, backup.object, { replicas: to });
    const notes = [
      params.factor !== undefined && `factor ${params.factor}`,
      wantedReplicas(from, params) > desired && `capped at maxReplicas ${desired}`,
      ...guarded.notes,
    ].filter(Boolean);
    const how = notes.length > 0 ? ` (${notes.join(', ')})` : '';
    return executed(
      ctx,
      backup,
      after,
      `scaled ${targetDisplay(backup.object)} from ${from} to ${to} replicas${how}`,
    );
  },
  rollback: restoreWritten,
};

/**
 * Restart every pod of a Deployment or StatefulSet the way `kubectl rollout restart` does: stamp
 * the pod template with a restartedAt annotation, which starts a rollout. The stamp is the
 * backup's capturedAt, so a retried execute writes the same value and starts no second rollout.
 */
import type { ActionModule } from './action.ts';
import { escapePointerToken, readPointer } from './fields.ts';
import { backupWorkload, executed, patchJson, restoreWritten } from './workloads.ts';
import { readTarget } from './target.ts';
import { targetDisplay } from '../../domain/run.ts';

const annotation = 'kubectl.kubernetes.io/restartedAt';
const annotationsPointer = '/spec/template/metadata/annotations';
const restartedAtPointer = `${annotationsPointer}/${escapePointerToken(annotation)}`;

export const rolloutRestart: ActionModule = {
  type: 'RolloutRestart',
  backup: (ctx, target) => backupWorkload(ctx, target, 'RolloutRestart', () => [restartedAtPointer]),
  async execute(ctx, _target, _action, backup) {
    const stamp = backup.capturedAt;
    const current = await readTarget(ctx, backup.object);
    // JSON Patch `add` needs the parent to exist: create the annotations map when there is none.
    const operation =
      readPointer(current, annotationsPointer) === null
        ? { op: 'add', path: annotationsPointer, value: { [annotation]: stamp } }
        : { op: 'add', path: restartedAtPointer, value: stamp };
    const after = await patchJson(ctx, backup.object, [operation]);
    return executed(
      ctx,
      backup,
      after,
      `started a rolling restart of ${targetDisplay(backup.object)} (${annotation}=${stamp})`,
    );
  },
  rollback: restoreWritten,
};

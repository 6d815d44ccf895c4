/**
 * Set resource requests and limits of one container of a Deployment or StatefulSet: the new
 * quantities are merged over the backed-up ones and the container's whole resources block is
 * written, guarded by a `test` that the container still sits at the backed-up index.
 */
import { type ActionModule, parametersOf } from './action.ts';
import { ActionError } from '../../domain/actions.ts';
import { readPointer } from './fields.ts';
import { backupWorkload, executed, patchJson, restoreWritten } from './workloads.ts';
import { targetDisplay } from '../../domain/run.ts';

type Quantities = Record<string, string>;
interface Resources {
  requests?: Quantities;
  limits?: Quantities;
  [other: string]: unknown;
}

const containersPointer = '/spec/template/spec/containers';

const describeResources = (resources: Resources) =>
  (['requests', 'limits'] as const)
    .filter((kind) => resources[kind] !== undefined)
    .map(
      (kind) =>
        `${kind} ${Object.entries(resources[kind] ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
    )
    .join(', ') || 'no requests or limits';

export const updateResources: ActionModule = {
  type: 'UpdateResources',
  backup: (ctx, target, action) =>
    backupWorkload(ctx, target, 'UpdateResources', (workload, ref) => {
      const { container } = parametersOf(action, 'updateResources');
      const names = ((readPointer(workload, containersPointer) ?? []) as { name: string }[]).map(
        (c) => c.name,
      );
      const index = names.indexOf(container);
      if (index < 0)
        throw new ActionError(
          'Invalid',
          `container "${container}" not found in ${targetDisplay(ref)} (containers: ${names.join(', ')})`,
        );
      return [`${containersPointer}/${index}/resources`];
    }),
  async execute(ctx, _target, action, backup) {
    const { container, requests, limits } = parametersOf(action, 'updateResources');
    const [pointer = ''] = Object.keys(backup.fields);
    const before = (backup.fields[pointer] ?? {}) as Resources;
    const resources: Resources = { ...before };
    if (requests) resources.requests = { ...before.requests, ...requests };
    if (limits) resources.limits = { ...before.limits, ...limits };
    const namePointer = pointer.replace(/\/resources$/, '/name');
    const after = await patchJson(ctx, backup.object, [
      { op: 'test', path: namePointer, value: container },
      { op: 'add', path: pointer, value: resources },
    ]);
    const summary = `set container "${container}" of ${targetDisplay(backup.object)} to ${describeResources(resources)} (was ${describeResources(before)})`;
    return executed(ctx, backup, after, summary);
  },
  rollback: restoreWritten,
};

/**
 * Roll a Deployment back to its previous revision, as `kubectl rollout undo` does: take the pod
 * template of the ReplicaSet before the current one and write it into /spec/template.
 *
 * "Previous" is the newest owned ReplicaSet whose template differs from the backed-up one. Right
 * after the backup that is the revision before the current one; after a rollback the Deployment
 * controller renumbers that ReplicaSet as the newest revision, and the same rule still finds it,
 * so a retried execute writes the same template instead of flipping back.
 */
import { type ActionContext, type ActionModule } from './action.ts';
import { ActionError, type ObjectRef } from '../../domain/actions.ts';
import { readPointer, sameValue } from './fields.ts';
import { collectionPath, kubeRequest } from '../../domain/kube/request.ts';
import { backupWorkload, executed, patchJson, podSelector, restoreWritten } from './workloads.ts';
import { type KubeObject, readTarget } from './target.ts';
import { targetDisplay } from '../../domain/run.ts';
import { asRefusal } from '../../domain/kube/errors.ts';

const templatePointer = '/spec/template';
const revisionPointer = '/metadata/annotations/deployment.kubernetes.io~1revision';

interface Revision {
  name: string;
  revision: number;
  template: KubeObject;
}

/** A ReplicaSet's pod template as the Deployment had it: without the pod-template-hash label. */
function deploymentTemplate(replicaSet: KubeObject): KubeObject {
  const template = structuredClone(readPointer(replicaSet, templatePointer) ?? {}) as KubeObject;
  const labels = readPointer(template, '/metadata/labels') as Record<string, string> | null;
  if (labels) delete labels['pod-template-hash'];
  return template;
}

async function revisions(ctx: ActionContext, ref: ObjectRef, deployment: KubeObject): Promise<Revision[]> {
  const uid = readPointer(deployment, '/metadata/uid');
  try {
    // Raw, not typed: the templates are compared with the Deployment's exactly as the API server wrote them.
    const list = await kubeRequest<{ items: KubeObject[] }>(ctx.kubeconfig, {
      method: 'GET',
      path: collectionPath({ apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: ref.namespace }),
      query: { labelSelector: podSelector(deployment, ref) },
    });
    return list.items
      .filter((rs) =>
        ((readPointer(rs, '/metadata/ownerReferences') ?? []) as { uid?: string }[]).some(
          (o) => o.uid === uid,
        ),
      )
      .map((rs) => ({
        name: String(readPointer(rs, '/metadata/name')),
        revision: Number(readPointer(rs, revisionPointer) ?? 0),
        template: deploymentTemplate(rs),
      }))
      .sort((a, b) => b.revision - a.revision);
  } catch (error) {
    throw asRefusal(error, targetDisplay(ref));
  }
}

/** The revision to roll back to, from the template the Deployment had at backup time. */
async function previousRevision(
  ctx: ActionContext,
  ref: ObjectRef,
  deployment: KubeObject,
  backedUp: unknown,
): Promise<Revision> {
  const owned = await revisions(ctx, ref, deployment);
  const previous = owned.find((r) => !sameValue(r.template, backedUp));
  if (previous) return previous;
  const known = owned.map((r) => r.revision).join(', ') || 'none';
  throw new ActionError(
    'NotApplicable',
    `${targetDisplay(ref)} has no previous revision to roll back to (revisions: ${known})`,
  );
}

const imagesOf = (template: KubeObject) =>
  ((readPointer(template, '/spec/containers') ?? []) as { image?: string }[]).map((c) => c.image).join(', ');

export const rollbackDeployment: ActionModule = {
  type: 'RollbackDeployment',
  backup: (ctx, target) =>
    backupWorkload(ctx, target, 'RollbackDeployment', async (deployment, ref) => {
      await previousRevision(ctx, ref, deployment, readPointer(deployment, templatePointer));
      return [templatePointer];
    }),
  async execute(ctx, _target, _action, backup) {
    const ref = backup.object;
    const deployment = await readTarget(ctx, ref);
    const previous = await previousRevision(ctx, ref, deployment, backup.fields[templatePointer]);
    const after = await patchJson(ctx, ref, [
      { op: 'replace', path: templatePointer, value: previous.template },
    ]);
    const summary = `rolled back ${targetDisplay(ref)} to the template of ReplicaSet ${previous.name} (images ${imagesOf(previous.template)})`;
    return executed(ctx, backup, after, summary);
  },
  rollback: restoreWritten,
};

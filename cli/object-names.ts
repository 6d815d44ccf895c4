/**
 * Naming a run by its object, as kubectl names objects: `deploy/web`, `statefulset/db`,
 * `po/web-0`, `no/node-1`. The kinds are the ones a policy can target (api/policy.ts); kubectl's
 * short and plural names are accepted for each.
 */
import { usageError } from './errors.ts';

export type TargetKind = 'Deployment' | 'StatefulSet' | 'Pod' | 'Node';

/** Every name kubectl accepts for a kind (`kubectl api-resources`: NAME, SHORTNAMES, KIND). */
const kindNames: Record<TargetKind, string[]> = {
  Deployment: ['deploy', 'deployment', 'deployments', 'deployment.apps', 'deployments.apps'],
  StatefulSet: ['sts', 'statefulset', 'statefulsets', 'statefulset.apps', 'statefulsets.apps'],
  Pod: ['po', 'pod', 'pods'],
  Node: ['no', 'node', 'nodes'],
};

/** Kinds kubectl knows that no policy can target: named so the error says why, not "unknown". */
const untargetable = ['ds', 'daemonset', 'daemonsets', 'rs', 'replicaset', 'replicasets', 'job', 'jobs'];

export const clusterScoped: ReadonlySet<TargetKind> = new Set(['Node']);

export interface ObjectName {
  kind: TargetKind;
  name: string;
}

/** True for `kind/name` (one slash); a workflow ID (`remediation/...`) has five. */
export const looksLikeObject = (text: string) => text.split('/').length === 2;

export function parseObjectName(text: string): ObjectName {
  const [given = '', name = ''] = text.split('/');
  const lower = given.toLowerCase();
  const kind = (Object.keys(kindNames) as TargetKind[]).find(
    (k) => k.toLowerCase() === lower || kindNames[k].includes(lower),
  );
  if (!kind) {
    const why = untargetable.includes(lower)
      ? `KubeMedic policies do not target ${given}`
      : `"${given}" is not a kind`;
    throw usageError(
      `${text}: ${why}; name a run by deploy/NAME, sts/NAME, po/NAME or no/NAME, or by its workflow ID`,
    );
  }
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) {
    throw usageError(`${text}: "${name}" is not a Kubernetes object name`);
  }
  return { kind, name };
}

/** Every name of every kind, for shell completion. */
export const objectKindNames = Object.values(kindNames).flat();

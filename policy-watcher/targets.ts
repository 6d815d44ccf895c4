/**
 * Which objects a policy targets, answered from the informer caches' indexes (no API call, no
 * scan of every object per target), the Pods each one owns, as the condition readers need
 * them, and which policies a changed object concerns (to evaluate them at once).
 */
import type { KubernetesObject, V1LabelSelector, V1Pod } from '@kubernetes/client-node';
import { selectorMatches } from '../api/label-selector.ts';
import type { TargetKind } from '../api/policy.ts';
import type { TargetState } from '../domain/conditions/readings.ts';
import type { ObjectIndex } from './object-index.ts';
import type { CheckedPolicy } from './policies.ts';

export type IndexedKind = TargetKind | 'Namespace';

export interface Caches {
  index(kind: IndexedKind): ObjectIndex;
}

/** The namespaces a policy's targets live in ('' for Nodes, which have none). */
function namespacesOf(policy: CheckedPolicy, caches: Caches): string[] {
  const target = policy.spec.target;
  if (target.kind === 'Node') return [''];
  if (policy.ref.kind === 'RemediationPolicy') return [policy.ref.namespace!];
  if (target.namespaces) return [...new Set(target.namespaces)];
  return caches
    .index('Namespace')
    .select('', target.namespaceSelector)
    .map((ns) => ns.metadata!.name!);
}

function inScope(policy: CheckedPolicy, namespace: string, caches: Caches): boolean {
  const target = policy.spec.target;
  if (target.kind === 'Node') return namespace === '';
  if (policy.ref.kind === 'RemediationPolicy') return namespace === policy.ref.namespace;
  if (target.namespaces) return target.namespaces.includes(namespace);
  const labels = caches.index('Namespace').get('', namespace)?.metadata?.labels;
  return selectorMatches(target.namespaceSelector, labels);
}

/** The objects of the target kind in `namespace` that the policy names or selects. */
function chosenIn(policy: CheckedPolicy, namespace: string, caches: Caches): KubernetesObject[] {
  const target = policy.spec.target;
  const index = caches.index(target.kind);
  if (!target.name) return index.select(namespace, target.selector);
  const named = index.get(namespace, target.name);
  return named === undefined ? [] : [named];
}

export function targetsOf(policy: CheckedPolicy, caches: Caches): TargetState[] {
  const kind = policy.spec.target.kind;
  const chosen = namespacesOf(policy, caches)
    .flatMap((namespace) => chosenIn(policy, namespace, caches))
    .filter((o) => o.metadata?.deletionTimestamp === undefined);
  return chosen.map((object) => ({
    ref: { kind, namespace: object.metadata?.namespace, name: object.metadata!.name! },
    object: object as TargetState['object'],
    pods: podsOf(kind, object, caches),
  }));
}

function podsOf(kind: TargetKind, object: KubernetesObject, caches: Caches): V1Pod[] {
  if (kind === 'Node') return [];
  if (kind === 'Pod') return [object as V1Pod];
  const selector = (object as { spec?: { selector?: V1LabelSelector } }).spec?.selector;
  return caches.index('Pod').select(object.metadata?.namespace ?? '', selector) as V1Pod[];
}

/**
 * Whether a change to `object` (of `kind`) can change a Kubernetes-state reading of the policy:
 * it is one of the policy's targets, or a Pod of one. Readings from Prometheus, the metrics API
 * or Alertmanager do not follow the objects; they keep to the interval (alerts have their own
 * trigger).
 */
export function concerns(
  policy: CheckedPolicy,
  kind: IndexedKind,
  object: KubernetesObject,
  caches: Caches,
): boolean {
  if (!policy.spec.conditions.some((c) => c.source === 'Kubernetes')) return false;
  const target = policy.spec.target;
  const namespace = object.metadata?.namespace ?? '';
  if (!inScope(policy, namespace, caches)) return false;
  if (kind === target.kind) {
    return target.name
      ? object.metadata?.name === target.name
      : selectorMatches(target.selector, object.metadata?.labels);
  }
  if (kind !== 'Pod' || (target.kind !== 'Deployment' && target.kind !== 'StatefulSet')) return false;
  const labels = object.metadata?.labels;
  return chosenIn(policy, namespace, caches).some((workload) =>
    selectorMatches((workload as { spec?: { selector?: V1LabelSelector } }).spec?.selector, labels),
  );
}

/**
 * Which objects a policy targets, answered from the informer caches (no API call), and the
 * Pods each one owns, as the condition readers need them.
 */
import type { KubernetesObject, V1LabelSelector, V1Pod } from '@kubernetes/client-node';
import { selectorMatches } from '../api/label-selector.ts';
import type { PolicySpec } from '../api/policy.ts';
import type { TargetState } from '../domain/conditions/readings.ts';
import type { CheckedPolicy } from './policies.ts';

export interface Caches {
  list(kind: PolicySpec['target']['kind'] | 'Namespace'): readonly KubernetesObject[];
}

function namespacesOf(policy: CheckedPolicy, caches: Caches): Set<string> | 'cluster' {
  const target = policy.spec.target;
  if (target.kind === 'Node') return 'cluster';
  if (policy.ref.kind === 'RemediationPolicy') return new Set([policy.ref.namespace!]);
  if (target.namespaces) return new Set(target.namespaces);
  return new Set(
    caches
      .list('Namespace')
      .filter((ns) => selectorMatches(target.namespaceSelector, ns.metadata?.labels))
      .map((ns) => ns.metadata!.name!),
  );
}

export function targetsOf(policy: CheckedPolicy, caches: Caches): TargetState[] {
  const target = policy.spec.target;
  const namespaces = namespacesOf(policy, caches);
  const inScope = (o: KubernetesObject) =>
    namespaces === 'cluster' || namespaces.has(o.metadata?.namespace ?? '');
  const chosen = caches
    .list(target.kind)
    .filter(inScope)
    .filter((o) =>
      target.name ? o.metadata?.name === target.name : selectorMatches(target.selector, o.metadata?.labels),
    )
    .filter((o) => o.metadata?.deletionTimestamp === undefined);
  const pods = caches.list('Pod') as readonly V1Pod[];
  return chosen.map((object) => ({
    ref: { kind: target.kind, namespace: object.metadata?.namespace, name: object.metadata!.name! },
    object: object as TargetState['object'],
    pods: podsOf(target.kind, object, pods),
  }));
}

function podsOf(
  kind: PolicySpec['target']['kind'],
  object: KubernetesObject,
  pods: readonly V1Pod[],
): V1Pod[] {
  if (kind === 'Node') return [];
  if (kind === 'Pod') return [object as V1Pod];
  const selector = (object as { spec?: { selector?: V1LabelSelector } }).spec?.selector;
  return pods.filter(
    (p) =>
      p.metadata?.namespace === object.metadata?.namespace && selectorMatches(selector, p.metadata?.labels),
  );
}

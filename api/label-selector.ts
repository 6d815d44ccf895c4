/**
 * Kubernetes label selectors, evaluated as the API server does: matchLabels and every
 * matchExpression must hold. Shared by the watcher (which targets a policy selects) and the
 * actions (which PodDisruptionBudgets guard a pod).
 */
import type { V1LabelSelector } from '@kubernetes/client-node';

/** An empty selector matches everything; an absent (or, as in policy/v1, null) one matches nothing. */
export function selectorMatches(
  selector: V1LabelSelector | null | undefined,
  labels: Record<string, string> = {},
): boolean {
  if (selector === undefined || selector === null) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    const has = Object.hasOwn(labels, e.key); // not `in`: a label may be called `constructor`
    switch (e.operator) {
      case 'In':
        return has && (e.values ?? []).includes(labels[e.key]!);
      case 'NotIn':
        return !has || !(e.values ?? []).includes(labels[e.key]!);
      case 'Exists':
        return has;
      default:
        return !has;
    }
  });
  return byLabels && byExpressions;
}

/** The Helm chart in tests (devstack/chart.ts renders it and makes its identities), and its RBAC rules. */
import type { KubernetesObject } from '@kubernetes/client-node';

export { chartDir, chartIdentities, helm, renderChart } from '../../devstack/chart.ts';

export interface RbacRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export const rulesOf = (object: KubernetesObject) => (object as { rules?: RbacRule[] }).rules ?? [];

/**
 * Whose run a workflow ID names: its KubeMedic cluster, the namespace of its target, and whether
 * a ClusterRemediationPolicy made it — read from the ID's own segments
 * (`remediation/<cluster>/<namespace or _cluster>/<kind>/<name>/<policy or cluster:policy>`,
 * domain/run.ts remediationWorkflowId). The decision relay checks a decision against it; the CLI
 * picks the namespace to create a decision in from it.
 */
export interface RunOwner {
  cluster: string;
  /** The target's namespace; `_cluster` for a Node. */
  namespace: string;
  clusterPolicy: boolean;
}

export function runOwner(workflowId: string): RunOwner | undefined {
  const parts = workflowId.split('/');
  const [prefix, cluster = '', namespace = '', , , policy = ''] = parts;
  if (parts.length !== 6 || prefix !== 'remediation') return undefined;
  return { cluster, namespace, clusterPolicy: policy.startsWith('cluster:') };
}

/**
 * The policy a log line is about, from a remediation run's workflow ID
 * (`remediation/<cluster>/<namespace or _cluster>/<kind>/<name>/<policy>`, domain/run.ts), so
 * activity and workflow lines, which the SDK labels with the workflowId only, can be filtered by
 * policy as the watcher's lines can.
 */
import { remediationWorkflowType } from '../run.ts';

export interface PolicyFields {
  policy: string;
  /** Unset for a ClusterRemediationPolicy. */
  policyNamespace?: string;
}

const clusterPrefix = 'cluster:';

/** A policy's fields for a log line: its name, and its namespace when it has one. */
export const policyFields = (policy: { namespace?: string; name: string }): PolicyFields =>
  policy.namespace ? { policy: policy.name, policyNamespace: policy.namespace } : { policy: policy.name };

/** The policy of a remediation run's workflow ID; nothing for other workflows (the governors). */
export function policyOfWorkflowId(workflowId: unknown): PolicyFields | undefined {
  if (typeof workflowId !== 'string') return undefined;
  const parts = workflowId.split('/');
  if (parts.length !== 6 || parts[0] !== remediationWorkflowType) return undefined;
  const [, , namespace, , , policy = ''] = parts;
  return policy.startsWith(clusterPrefix)
    ? { policy: policy.slice(clusterPrefix.length) }
    : { policy, policyNamespace: namespace };
}

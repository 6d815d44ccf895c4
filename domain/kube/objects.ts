/**
 * A target as the Kubernetes API names it: the one table of the target kinds' apiVersions,
 * for the actions' reads and writes and for the Events about a target.
 */
import type { TargetKind } from '../../api/policy.ts';
import type { ObjectRef, TargetRef } from '../actions.ts';

const targetApiVersions: Record<TargetKind, string> = {
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  Pod: 'v1',
  Node: 'v1',
};

export function targetObjectRef(target: TargetRef): ObjectRef {
  return {
    apiVersion: targetApiVersions[target.kind],
    kind: target.kind,
    ...(target.namespace ? { namespace: target.namespace } : {}),
    name: target.name,
  };
}

/**
 * What each action acts on, as data: the watcher checks policies against it, the action
 * modules in activities/actions/ take their `kinds` from it, and neither needs the other.
 */
import type { ActionType, TargetKind } from '../api/policy.ts';

const workloads = ['Deployment', 'StatefulSet'] as const;

export const actionTargetKinds: Record<ActionType, readonly TargetKind[]> = {
  Scale: workloads,
  RestartPod: ['Pod', ...workloads],
  RolloutRestart: workloads,
  RollbackDeployment: ['Deployment'],
  UpdateResources: workloads,
  AdjustHPA: workloads,
  CordonNode: ['Node'],
  DrainNode: ['Node'],
  Webhook: ['Deployment', 'StatefulSet', 'Pod', 'Node'],
  RunJob: ['Deployment', 'StatefulSet', 'Pod'],
};

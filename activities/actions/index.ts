// The action modules: one per action type, each with its matching rollback. What each action
// declares (target kinds, parameter block, refusals, RBAC) is in domain/action-catalogue.ts.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Action, ActionType } from '../../api/policy.ts';
import type { Backup, ExecuteResult } from '../../domain/actions.ts';
import type { ActionModule } from './action.ts';
import { adjustHPA } from './adjust-hpa.ts';
import { cordonNode } from './cordon-node.ts';
import { drainNode } from './drain-node.ts';
import { restartPod } from './restart-pod.ts';
import { rollbackDeployment } from './rollback-deployment.ts';
import { rolloutRestart } from './rollout-restart.ts';
import { runJob } from './run-job.ts';
import { scale } from './scale.ts';
import { updateResources } from './update-resources.ts';
import { webhook } from './webhook.ts';

const modules: Record<ActionType, ActionModule> = {
  Scale: scale,
  RestartPod: restartPod,
  RolloutRestart: rolloutRestart,
  RollbackDeployment: rollbackDeployment,
  UpdateResources: updateResources,
  AdjustHPA: adjustHPA,
  CordonNode: cordonNode,
  DrainNode: drainNode,
  Webhook: webhook,
  RunJob: runJob,
};

export function actionModule(type: ActionType): ActionModule {
  return modules[type];
}

export * from './action.ts';

/**
 * `kubemedic restore`: a finished run's rollback, run by a person with their own kubeconfig
 * (their RBAC, not the worker's), with the same conflict check as the workflow's.
 */
export function restoreByHand(
  kubeconfig: KubeConfig,
  step: { backup: Backup; executed: ExecuteResult; action: Action },
  dryRun: boolean,
) {
  return actionModule(step.action.type).rollback(
    { kubeconfig, ownKubeconfig: kubeconfig, dryRun, heartbeat: () => undefined },
    step.backup,
    step.executed,
    step.action,
  );
}

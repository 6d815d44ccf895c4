/**
 * Every action, declared once as data: what it does and undoes (in words), what it acts on, its
 * parameter block in the policy, the refusals it may raise, whether it waits for the cluster,
 * and the RBAC it needs. Pure, so the workflow (timeouts), the watcher (kind check), api/ (CEL
 * rules, docs) and the tests read the same entry; the code that acts is the module of the same
 * type in activities/actions/.
 * docs/adding-an-action.md walks through adding one.
 */
import type { Action, ActionType, TargetKind } from '../api/policy.ts';
import type { RefusalType } from './actions.ts';

/** The key of an action's parameter block in `spec.actions[]` (`scale`, `adjustHPA`, …). */
export type ParameterBlock = Exclude<keyof Action, 'type'>;

/** One rule of a ClusterRole: what the acting identity must be allowed to send. */
export interface RbacRule {
  /** "" is the core group. */
  apiGroup: string;
  resources: readonly string[];
  verbs: readonly string[];
}

export interface ActionDeclaration {
  /** What it does, and what its rollback undoes, for people (the policy reference's table). */
  does: string;
  undoes: string;
  targetKinds: readonly TargetKind[];
  /** Required exactly when set; every other block must then be absent (a CEL rule says so). */
  parameters?: ParameterBlock;
  /**
   * What the action raises itself, besides the refusals every action may meet (see
   * commonRefusals): the docs list them and a test holds each module to its list.
   */
  refusals: readonly RefusalType[];
  /** Waits for the cluster (evictions, a Job): patient activity timeouts and a heartbeat. */
  longRunning: boolean;
  /**
   * What the action sends besides reading its target (`get` on the target kinds is implied):
   * the chart's worker ClusterRole must grant it, and a test checks that it does.
   */
  rbac: readonly RbacRule[];
}

/** Met by every action: the target's guards (safety.ts) and the Kubernetes error mapping. */
export const commonRefusals: readonly RefusalType[] = ['TargetGone', 'Forbidden', 'Invalid', 'Protected'];

const workloads = ['Deployment', 'StatefulSet'] as const;
const writeWorkloads: RbacRule = {
  apiGroup: 'apps',
  resources: ['deployments', 'statefulsets'],
  verbs: ['patch'],
};
const evictPods: RbacRule[] = [
  { apiGroup: '', resources: ['pods'], verbs: ['get', 'list'] },
  { apiGroup: '', resources: ['pods/eviction'], verbs: ['create'] },
  { apiGroup: 'policy', resources: ['poddisruptionbudgets'], verbs: ['list'] },
  // The evidence kept before the pods go (actions/evidence.ts): their logs and Events.
  { apiGroup: '', resources: ['pods/log'], verbs: ['get'] },
  { apiGroup: '', resources: ['events'], verbs: ['list'] },
];
const cordonNodes: RbacRule = { apiGroup: '', resources: ['nodes'], verbs: ['patch'] };

export const actionCatalogue = {
  Scale: {
    does: '`spec.replicas` to a count or by a factor, capped by `maxReplicas`, never below 1 (server-side apply)',
    undoes: 'restores the replica count',
    targetKinds: workloads,
    parameters: 'scale',
    refusals: ['Quota'],
    longRunning: false,
    rbac: [
      writeWorkloads,
      // The guards: an HPA's maxReplicas and ResourceQuota headroom bound the scale-up.
      { apiGroup: 'autoscaling', resources: ['horizontalpodautoscalers'], verbs: ['list'] },
      { apiGroup: '', resources: ['resourcequotas'], verbs: ['list'] },
    ],
  },
  RestartPod: {
    does: 'evicts the Pod (or the Pod of a workload with most restarts), uid-guarded; a PodDisruptionBudget refuses it (`DisruptionBudget`, Skipped)',
    undoes: 'nothing: an evicted Pod cannot come back; its controller recreates it (`NotReversible`)',
    targetKinds: ['Pod', ...workloads],
    refusals: ['NotApplicable', 'DisruptionBudget'],
    longRunning: false,
    rbac: evictPods,
  },
  RolloutRestart: {
    does: "sets the template's `kubectl.kubernetes.io/restartedAt`",
    undoes: 'restores or removes the annotation',
    targetKinds: workloads,
    refusals: [],
    longRunning: false,
    rbac: [writeWorkloads],
  },
  RollbackDeployment: {
    does: "writes the previous revision's pod template",
    undoes: 'restores the template it replaced',
    targetKinds: ['Deployment'],
    refusals: ['NotApplicable'],
    longRunning: false,
    rbac: [
      { apiGroup: 'apps', resources: ['deployments'], verbs: ['patch'] },
      // The Deployment's ReplicaSets hold the previous template.
      { apiGroup: 'apps', resources: ['replicasets'], verbs: ['list'] },
    ],
  },
  UpdateResources: {
    does: "a container's requests/limits",
    undoes: "restores the container's `resources`",
    targetKinds: workloads,
    parameters: 'updateResources',
    refusals: [],
    longRunning: false,
    rbac: [writeWorkloads],
  },
  AdjustHPA: {
    does: "the HPA's `minReplicas`/`maxReplicas`",
    undoes: 'restores the bounds',
    targetKinds: workloads,
    parameters: 'adjustHPA',
    refusals: ['NotApplicable'],
    longRunning: false,
    rbac: [
      { apiGroup: 'autoscaling', resources: ['horizontalpodautoscalers'], verbs: ['get', 'list', 'patch'] },
    ],
  },
  CordonNode: {
    does: '`spec.unschedulable: true`',
    undoes: 'uncordons',
    targetKinds: ['Node'],
    refusals: [],
    longRunning: false,
    rbac: [cordonNodes],
  },
  DrainNode: {
    does: 'cordons, then evicts through the Eviction API (PodDisruptionBudgets respected, retried until a timeout)',
    undoes: 'uncordons; evicted Pods are not moved back',
    targetKinds: ['Node'],
    parameters: 'drainNode',
    refusals: [],
    longRunning: true,
    rbac: [cordonNodes, ...evictPods],
  },
  Webhook: {
    does: 'POSTs the event with an `Idempotency-Key`',
    undoes: 'POSTs to `rollbackUrl` if set, else `NotReversible`',
    targetKinds: ['Deployment', 'StatefulSet', 'Pod', 'Node'],
    parameters: 'webhook',
    refusals: [],
    longRunning: false,
    rbac: [],
  },
  RunJob: {
    does: 'creates a Job from a template and waits for Complete/Failed',
    undoes: 'deletes the Job; what it did is not undone',
    targetKinds: ['Deployment', 'StatefulSet', 'Pod'],
    parameters: 'runJob',
    refusals: [],
    longRunning: true,
    rbac: [{ apiGroup: 'batch', resources: ['jobs'], verbs: ['create', 'get', 'delete'] }],
  },
} as const satisfies Record<ActionType, ActionDeclaration>;

export const declarationOf = (type: ActionType): ActionDeclaration => actionCatalogue[type];

/** Where each target kind lives in the API, for the `get` every action sends on its target. */
const targetResources: Record<TargetKind, Pick<RbacRule, 'apiGroup' | 'resources'>> = {
  Deployment: { apiGroup: 'apps', resources: ['deployments'] },
  StatefulSet: { apiGroup: 'apps', resources: ['statefulsets'] },
  Pod: { apiGroup: '', resources: ['pods'] },
  Node: { apiGroup: '', resources: ['nodes'] },
};

/** Everything the action needs: `get` on its target kinds, then what it declares. */
export function rbacOf(type: ActionType): RbacRule[] {
  const { targetKinds, rbac } = declarationOf(type);
  return [...targetKinds.map((kind) => ({ ...targetResources[kind], verbs: ['get'] })), ...rbac];
}

/**
 * What the remediation workflow takes, reports and returns. Shared with the watcher, the
 * worker's activities and the CLI; pure types and pure functions only (this runs in the
 * workflow sandbox).
 */
import type { Action, NotificationEvent, PolicyKind, PolicySpec } from '../api/policy.ts';
import type { Backup, ExecuteResult, FieldSnapshot, RollbackResult, TargetRef } from './actions.ts';

export type { TargetRef };

export interface PolicyRef {
  kind: PolicyKind;
  /** Absent for a ClusterRemediationPolicy. */
  namespace?: string;
  name: string;
  uid: string;
  generation: number;
}

export interface ConditionReading {
  name: string;
  /** null when the source had no data for this target. */
  value: number | null;
  holds: boolean;
}

export interface RemediationInput {
  cluster: string;
  policy: PolicyRef;
  /** The policy spec as it was when the trigger fired: a run is not changed by later edits. */
  spec: PolicySpec;
  target: TargetRef;
  trigger: { observedAt: string; readings: ConditionReading[] };
}

export const phases = [
  'Pending',
  'AwaitingApproval',
  'BackingUp',
  'Executing',
  'Verifying',
  'RollingBack',
  'Reverting',
  'CoolingDown',
] as const;
export type ActivePhase = (typeof phases)[number];

export const outcomes = [
  'Succeeded',
  'Failed',
  'RolledBack',
  'Rejected',
  'Cancelled',
  'Skipped',
  /** The target's attempts within the window are used up: it is a person's now (see the governor). */
  'NeedsAttention',
] as const;
export type Outcome = (typeof outcomes)[number];
export type Phase = ActivePhase | Outcome;

export interface Verdict {
  healthy: boolean;
  reason: string;
  readings: ConditionReading[];
  /** The reading had no data (or could not be taken); `healthy` then follows onNoData. */
  noData?: boolean;
  /** The target no longer exists (deleted during the run, or removed by the action itself). */
  targetGone?: boolean;
  /** Over a window of readings: no reading failed past the limit, but some had no data (onNoData Inconclusive). */
  inconclusive?: boolean;
}

/** One rung of the escalation ladder, as it happened. */
export interface StepRecord {
  index: number;
  action: Action['type'];
  backup?: Backup;
  executed?: ExecuteResult;
  verdict?: Verdict;
  rollback?: RollbackResult;
  revert?: RollbackResult;
  /** Why the step's execute failed (its Job failed, its retries ran out): a failed step, like a failed verification. */
  failure?: string;
  /** During a gradual revert: what the fields hold after the last step. */
  revertedTo?: Record<string, unknown>;
}

/**
 * What an executed step's fields hold as the run left them: after gradual revert steps, the last
 * step's values (revertedTo), not what execute wrote. The workflow's rollback and revert and the
 * CLI's restore by hand compare the cluster with this, so they agree on what is KubeMedic's.
 */
export const executedAsLeft = (
  executed: ExecuteResult,
  revertedTo: FieldSnapshot | undefined,
): ExecuteResult => (revertedTo === undefined ? executed : { ...executed, written: revertedTo });

export interface ApprovalDecision {
  decision: 'approved' | 'rejected';
  by: string;
  reason: string;
  /** How the decision arrived: a message, or the deadline passing. */
  via: 'signal' | 'update' | 'timeout';
  /**
   * Who vouches for `by`: "RemediationDecision <ns>/<name>" when the policy watcher relayed a
   * decision the API server admitted (its creator is `by`), else an unauthenticated Temporal
   * message. Absent in runs recorded before it existed, and for the deadline.
   */
  channel?: string;
}

export interface RemediationStatus {
  phase: Phase;
  target: TargetRef;
  policy: PolicyRef;
  dryRun: boolean;
  approval?: ApprovalDecision;
  steps: StepRecord[];
  outcome?: Outcome;
  /** Why the run ended as it did, in words a person can act on. */
  reason?: string;
  /** What became of each notification, once delivered or given up. */
  notifications?: NotificationRecord[];
}

/** One notification of a run: delivered to its sink, or why not (after its retries). */
export interface NotificationRecord {
  /** The sink as people know it: its type and Secret, or the default sink's name; never a URL. */
  sink: string;
  event: NotificationEvent;
  delivered: boolean;
  reason?: string;
}

export type RemediationResult = RemediationStatus & { outcome: Outcome; reason: string };

/** The remediation workflow as clients start and query it, without importing its implementation. */
export const remediationWorkflowType = 'remediation';
export type RemediationWorkflow = (input: RemediationInput) => Promise<RemediationResult>;

/** A message's sender and why. */
export interface MessageInput {
  by?: string;
  reason?: string;
  /** Set by the policy watcher only: the RemediationDecision it relays (see ApprovalDecision.channel). */
  channel?: string;
}

/** The channel a signal is recorded with: anyone who can reach Temporal can send one, naming anyone. */
export const unauthenticatedSignal = 'Temporal signal (unauthenticated)';
/** An update that names no channel: a Temporal client (the CLI's --via-temporal), its --by unchecked. */
export const unauthenticatedUpdate = 'Temporal update (unauthenticated)';

/** The cancel update's answer (the RemediationDecision path; the CLI's --via-temporal sends the signal). */
export interface CancelAnswer {
  cancelled: true;
  by: string;
  channel: string;
  /** The phase the run was in when the cancel arrived. */
  phase: Phase;
}

/** `<cluster>/<namespace or _cluster>/<kind>/<name>/<policy>`: one active run per target and policy. */
export function remediationWorkflowId(
  cluster: string,
  target: TargetRef,
  policy: Pick<PolicyRef, 'kind' | 'namespace' | 'name'>,
): string {
  const policyName = policy.kind === 'ClusterRemediationPolicy' ? `cluster:${policy.name}` : policy.name;
  return ['remediation', cluster, target.namespace ?? '_cluster', target.kind, target.name, policyName].join(
    '/',
  );
}

/** How an object is named for people: `Deployment shop/web`, `Node n1`. */
export const targetDisplay = (target: { kind: string; namespace?: string; name: string }) =>
  target.namespace ? `${target.kind} ${target.namespace}/${target.name}` : `${target.kind} ${target.name}`;

/** How a policy is named in search attributes, status and messages: namespace/name, or name for a cluster policy. */
export const policyLabel = (policy: Pick<PolicyRef, 'namespace' | 'name'>) =>
  policy.namespace ? `${policy.namespace}/${policy.name}` : policy.name;

/**
 * What a notification says, as the run knows it. The notify activity adds what only the worker
 * knows (run ID, Web UI link) and renders it for each sink (activities/notify-payload.ts).
 */
export interface NotificationFacts {
  event: NotificationEvent;
  cluster: string;
  policy: PolicyRef;
  target: TargetRef;
  /** The action of the current rung of the ladder (the first one before any has run). */
  action?: Action['type'];
  phase: Phase;
  /** Set once the run has ended. */
  outcome?: Outcome;
  reason: string;
  /** Workflow time of the event, so every retry sends the same body. */
  time: string;
  /**
   * One line per pod the run removed, kept before it did (domain/evidence.ts); the logs
   * themselves stay in the run: `kubemedic show` prints them.
   */
  evidence?: string[];
}

/** The exact command that approves a run awaiting approval. */
export const approveCommand = (workflowId: string, cluster: string) =>
  `kubemedic approve ${workflowId} --cluster ${cluster}`;

/**
 * RemediationDecision and RemediationPause: approvals, rejections, cancels and the pause switch
 * declared as Kubernetes resources, so who may decide is ordinary RBAC and who decided is the API
 * server's word. `spec.decidedBy` must equal the creator's username: a ValidatingAdmissionPolicy
 * checks it (api/admission-policy.ts; admission policies cannot stamp a field, and the mutating
 * kind is not GA in Kubernetes 1.34). The policy watcher relays each to Temporal
 * (policy-watcher/decisions.ts, pauses.ts) and writes what happened into its status.
 */
import { z } from 'zod';
import type { PrinterColumn } from './crd.ts';
import { remediationPolicySpec } from './policy.ts';

/** A target of a namespaced policy, named as the policy names one (kind, DNS-1123 name). */
const { kind: targetKind, name: optionalName } = remediationPolicySpec.shape.target.shape;
const objectName = optionalName.unwrap();

const validations = (...rules: { rule: string; message: string }[]) => ({
  'x-kubernetes-validations': rules,
});
/** A spec never changes once created: a new decision is a new object (and a new audit line). */
const immutable = { rule: 'self == oldSelf', message: 'a decision is immutable: create a new one' };

const decidedBy = z.string().min(1).max(512).meta({
  description:
    'Your own username as the API server knows it (`kubectl auth whoami`); admission refuses any other. The CLI fills it in.',
});
const reason = z.string().max(1024).optional().meta({ description: "Why; kept in the run's history." });
const cluster = z.string().min(1).max(63).optional().meta({
  description:
    "Only KubeMedic's watchers for this cluster name (KUBEMEDIC_CLUSTER) act on it, for an API server several KubeMedic clusters share; default: all.",
});

export const decisionVerbs = ['approve', 'reject', 'cancel'] as const;
export type DecisionVerb = (typeof decisionVerbs)[number];

export const remediationDecisionSpec = z
  .object({
    workflowId: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .meta({ description: 'The run, by workflow ID (`kubemedic list` shows them). Or policy and target.' }),
    policy: objectName
      .optional()
      .meta({ description: 'A RemediationPolicy of this namespace: its run for `target` is decided.' }),
    target: z
      .object({ kind: targetKind, name: objectName })
      .optional()
      .meta({ description: "The run's target, in this namespace (with `policy`)." }),
    decision: z.enum(decisionVerbs),
    cluster,
    reason,
    decidedBy,
  })
  .meta(
    validations(immutable, {
      rule: 'has(self.workflowId) != (has(self.policy) && has(self.target))',
      message: 'name the run either by workflowId, or by policy and target',
    }),
  );
export type RemediationDecisionSpec = z.infer<typeof remediationDecisionSpec>;

export const decisionStatus = z.object({
  phase: z.enum(['Relayed', 'Refused']).meta({
    description: 'Relayed: the run took the decision. Refused: it did not; `reason` says why.',
  }),
  reason: z.string(),
  workflowId: z.string().optional(),
  /** The run's own answer, e.g. "approved by alice (update, RemediationDecision shop/ok)". */
  answer: z.string().optional(),
  time: z.string(),
});
export type DecisionStatus = z.infer<typeof decisionStatus>;

export const remediationPauseSpec = z
  .object({
    policy: z
      .string()
      .min(1)
      .max(317)
      .regex(/^([a-z0-9][-a-z0-9]*\/)?[a-z0-9][-a-z0-9.]*$/, 'NAMESPACE/NAME, or NAME for a cluster policy')
      .optional()
      .meta({
        description:
          'Pause only this policy (NAMESPACE/NAME; a ClusterRemediationPolicy: NAME). Default: every policy.',
      }),
    cluster,
    reason,
    decidedBy,
  })
  .meta(validations(immutable));
export type RemediationPauseSpec = z.infer<typeof remediationPauseSpec>;

export const pauseStatus = z.object({
  phase: z.enum(['Paused', 'Refused']),
  reason: z.string(),
  /** The governor workflow holding the pause. */
  governor: z.string().optional(),
  time: z.string(),
});
export type PauseStatus = z.infer<typeof pauseStatus>;

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const by: PrinterColumn = { name: 'Decided by', type: 'string', jsonPath: '.spec.decidedBy' };

export const decisionKinds = {
  RemediationDecision: {
    kind: 'RemediationDecision',
    plural: 'remediationdecisions',
    singular: 'remediationdecision',
    shortNames: ['rdec'],
    scope: 'Namespaced',
    description:
      'RemediationDecision approves, rejects or cancels one remediation run of this namespace; the policy watcher relays it.',
    spec: remediationDecisionSpec,
    status: decisionStatus,
    printerColumns: [
      { name: 'Decision', type: 'string', jsonPath: '.spec.decision' },
      { name: 'Run', type: 'string', jsonPath: '.status.workflowId' },
      by,
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Reason', type: 'string', jsonPath: '.status.reason', priority: 1 },
      age,
    ],
  },
  RemediationPause: {
    kind: 'RemediationPause',
    plural: 'remediationpauses',
    singular: 'remediationpause',
    shortNames: ['rpause'],
    scope: 'Cluster',
    description:
      'RemediationPause pauses remediation (every policy, or one) while it exists; deleting it resumes.',
    spec: remediationPauseSpec,
    status: pauseStatus,
    printerColumns: [
      { name: 'Policy', type: 'string', jsonPath: '.spec.policy' },
      { name: 'Cluster', type: 'string', jsonPath: '.spec.cluster' },
      by,
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Reason', type: 'string', jsonPath: '.spec.reason', priority: 1 },
      age,
    ],
  },
} as const;
export type DecisionKind = keyof typeof decisionKinds;

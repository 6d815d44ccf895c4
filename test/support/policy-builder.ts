/**
 * Policies for tests, typed against what the API server is sent: the zod schema's *input* type
 * (defaults may be left out, as a person writing YAML leaves them out). A misspelt field or a
 * wrong action block is a compile error here, not a confusing admission error at run time.
 * Deliberately bad input goes through `createUncheckedPolicy` (kubemedic.ts) instead, so that
 * this path stays typed.
 */
import type { z } from 'zod';
import type { action, condition, policyKinds, PolicyKind } from '../../api/policy.ts';

/** The spec of a policy of kind `K`, as written (zod input: defaults optional). */
export type PolicySpecInput<K extends PolicyKind = 'RemediationPolicy'> = z.input<
  (typeof policyKinds)[K]['spec']
>;
export type ConditionInput = z.input<typeof condition>;
export type ActionInput = z.input<typeof action>;

/**
 * A namespaced policy on the Deployment `target`: the conditions and actions given, and the short
 * settle and cooldown end-to-end runs use (the defaults, a minute and ten, would outlast a test).
 * `rest` adds to or replaces any part.
 */
export function deploymentPolicy(
  target: string,
  spec: Pick<PolicySpecInput, 'conditions' | 'actions'> & Partial<PolicySpecInput>,
): PolicySpecInput {
  return {
    target: { kind: 'Deployment', name: target },
    verification: { settle: '1s' },
    cooldown: '1s',
    ...spec,
  };
}

/** Condition builders: one per kind of condition the e2e tests drive. */
export const conditions = {
  /**
   * Deployment availability: with threshold 1 it holds while the Deployment is unavailable (so
   * verification passes once KWOK runs its Pods); with threshold 0 it always holds (so
   * verification always fails).
   */
  deploymentUnavailable: (name: string, threshold: 0 | 1): ConditionInput => ({
    name,
    source: 'Kubernetes',
    kubernetes: { state: 'DeploymentUnavailable' },
    operator: '>=',
    threshold,
  }),
  /** More than `threshold` pending Pods: never true on the stack (KWOK runs every Pod), so verification passes. */
  podPending: (name: string, threshold = 5): ConditionInput => ({
    name,
    source: 'Kubernetes',
    kubernetes: { state: 'PodPending' },
    threshold,
  }),
  /** A PromQL query above `threshold`. */
  prometheus: (name: string, query: string, threshold: number): ConditionInput => ({
    name,
    source: 'Prometheus',
    prometheus: { query },
    operator: '>',
    threshold,
  }),
};

/** The Scale action (the one most end-to-end runs take: its effect is one field, easy to read back). */
export const scale = (scaleBlock: NonNullable<ActionInput['scale']>): ActionInput => ({
  type: 'Scale',
  scale: scaleBlock,
});

/**
 * Turns a policy object from the API server into a checked policy, or into the reason it is
 * invalid. The CRD's schema and CEL rules refuse most mistakes at admission; this catches what
 * they cannot say (an action that cannot act on the target's kind) and anything written while
 * the CRD was older. An invalid policy is reported in its status and skipped; it never stops
 * the others.
 */
import type { KubernetesObject, V1JobSpec } from '@kubernetes/client-node';
import {
  type PolicyKind,
  type PolicySpec,
  policyKinds,
  signingNeedsServiceAccountMessage,
} from '../api/policy.ts';
import { declarationOf } from '../domain/action-catalogue.ts';
import { parseMatcher } from '../domain/conditions/alerts.ts';
import { restrictedViolations } from '../domain/pod-security.ts';
import { serviceAccountRequired } from '../domain/protection.ts';
import type { PolicyRef } from '../domain/run.ts';

export interface PolicyObject extends KubernetesObject {
  spec?: unknown;
  status?: Record<string, unknown>;
}

export interface CheckedPolicy {
  ref: PolicyRef;
  spec: PolicySpec;
}

export type PolicyCheck =
  { valid: true; policy: CheckedPolicy } | { valid: false; ref: PolicyRef; reason: string };

export interface CheckOptions {
  /**
   * Every namespaced policy must name a ServiceAccount to act as (the chart's
   * requireServiceAccount), so no tenant acts with KubeMedic's own rights.
   */
  requireServiceAccount?: boolean;
}

export function checkPolicy(kind: PolicyKind, object: PolicyObject, options: CheckOptions = {}): PolicyCheck {
  const ref: PolicyRef = {
    kind,
    namespace: object.metadata?.namespace,
    name: object.metadata?.name ?? '',
    uid: object.metadata?.uid ?? '',
    generation: object.metadata?.generation ?? 0,
  };
  const parsed = policyKinds[kind].spec.safeParse(object.spec);
  if (!parsed.success) {
    const reason = parsed.error.issues
      .map((issue) => `spec.${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    return { valid: false, ref, reason };
  }
  const spec = parsed.data as PolicySpec;
  if (options.requireServiceAccount && kind === 'RemediationPolicy' && !spec.serviceAccountName) {
    return { valid: false, ref, reason: serviceAccountRequired };
  }
  // The CRD's rule says the same; this catches a policy admitted before the rule existed.
  if (kind === 'RemediationPolicy' && !spec.serviceAccountName && (spec.notifications ?? []).length > 0) {
    return { valid: false, ref, reason: signingNeedsServiceAccountMessage };
  }
  const matcherProblem = badAlertMatcher(spec);
  if (matcherProblem !== undefined) return { valid: false, ref, reason: matcherProblem };
  const jobProblem = unrestrictedJob(spec);
  if (jobProblem !== undefined) return { valid: false, ref, reason: jobProblem };
  for (const [index, action] of spec.actions.entries()) {
    const kinds = declarationOf(action.type).targetKinds;
    if (!kinds.includes(spec.target.kind)) {
      return {
        valid: false,
        ref,
        reason: `spec.actions.${index}: ${action.type} acts on ${kinds.join(' or ')}, not on the target kind ${spec.target.kind}`,
      };
    }
  }
  return { valid: true, policy: { ref, spec } };
}

/** A regular expression in an Alertmanager matcher that does not compile (the CRD checks only the form). */
function badAlertMatcher(spec: PolicySpec): string | undefined {
  const lists = [
    ['conditions', spec.conditions],
    ['verification.conditions', spec.verification?.conditions ?? []],
  ] as const;
  for (const [path, conditions] of lists) {
    for (const [index, condition] of conditions.entries()) {
      for (const matcher of condition.alertmanager?.matchers ?? []) {
        try {
          parseMatcher(matcher);
        } catch (error) {
          return `spec.${path}.${index}.alertmanager.matchers: ${(error as Error).message}`;
        }
      }
    }
  }
  return undefined;
}

/**
 * A RunJob template that breaks the restricted Pod Security Standard where CEL cannot see it (a
 * ServiceAccount not the policy's own, root, added capabilities, seccomp): the worker refuses it
 * at every create, so the policy is Invalid now rather than failing at each run.
 */
function unrestrictedJob(spec: PolicySpec): string | undefined {
  for (const [index, action] of spec.actions.entries()) {
    if (!action.runJob) continue;
    let violations: string[];
    try {
      violations = restrictedViolations(action.runJob.template as V1JobSpec, spec.serviceAccountName);
    } catch (error) {
      // The template is free-form below the fields CEL declares: `capabilities.add: SYS_ADMIN`
      // (a string, not a list) is admitted, and no Job could be made of it.
      return `spec.actions.${index}.runJob: the template is not a Job spec: ${(error as Error).message}`;
    }
    if (violations.length > 0)
      return `spec.actions.${index}.runJob: the template breaks the restricted Pod Security Standard: ${violations.join('; ')}`;
  }
  return undefined;
}

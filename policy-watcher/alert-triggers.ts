/**
 * One firing of an alert (fingerprint + startsAt) starts at most one run per target and policy,
 * however often Alertmanager repeats it and whichever watcher replica hears it. The run's
 * workflow ID is the same for every trigger of a target and policy, so while a run is open,
 * USE_EXISTING absorbs repeats; after it closes, the memo of its start remembers the alerts
 * that triggered it, and this module reads them back from Temporal's visibility (shared by all
 * replicas, so each reaches the same decision) before an alert may trigger again.
 */
import type { Client } from '@temporalio/client';
import { alertKey, alertsFor, type FiringAlert, matches, parseMatcher } from '../domain/conditions/alerts.ts';
import type { TargetState } from '../domain/conditions/readings.ts';
import { searchAttributes } from '../domain/search-attributes.ts';
import {
  type ConditionReading,
  policyLabel,
  type PolicyRef,
  remediationWorkflowId,
  type TargetRef,
} from '../domain/run.ts';
import type { CheckedPolicy } from './policies.ts';

/** The memo field of a run's start that lists the alertKeys that triggered it. */
export const triggeredByAlertsMemo = 'kubemedicTriggerAlerts';

/** Clocks of Prometheus and Temporal may differ a little: look a little further back. */
const clockSlackMs = 60 * 60_000;

/**
 * The alertKeys that already triggered a run of the policy, by workflow ID: one visibility list
 * call for the policy, bounded to runs started since the oldest of `alerts` began.
 */
export async function alertsThatTriggered(
  client: Client,
  cluster: string,
  policy: PolicyRef,
  alerts: readonly FiringAlert[],
): Promise<Map<string, Set<string>>> {
  const consumed = new Map<string, Set<string>>();
  if (alerts.length === 0) return consumed;
  // A loop, not Math.min(...): a spread of 140,000 alerts overflows the stack.
  const oldest = alerts.reduce((min, a) => Math.min(min, Date.parse(a.startsAt)), Infinity);
  const since = new Date(oldest - clockSlackMs).toISOString();
  const query =
    `${searchAttributes.cluster.name} = "${cluster}" AND ${searchAttributes.policy.name} = "${policyLabel(policy)}" ` +
    `AND StartTime >= "${since}"`;
  for await (const run of client.workflow.list({ query })) {
    const keys = run.memo?.[triggeredByAlertsMemo];
    if (!Array.isArray(keys)) continue;
    const set = consumed.get(run.workflowId) ?? new Set<string>();
    for (const key of keys) if (typeof key === 'string') set.add(key);
    consumed.set(run.workflowId, set);
  }
  return consumed;
}

/** The alerts of `alerts` that have not triggered the run `workflowId` names yet. */
export const notYetTriggered = (
  alerts: readonly FiringAlert[],
  consumed: Map<string, Set<string>>,
  workflowId: string,
) => alerts.filter((alert) => !consumed.get(workflowId)?.has(alertKey(alert)));

export interface AlertTriggers {
  /** For readConditions: the firing alerts that may still trigger a run for the target. */
  eligible(target: TargetRef): readonly FiringAlert[];
  /** The eligible alerts behind the target's Alertmanager conditions that hold now. */
  behind(target: TargetState, readings: readonly ConditionReading[]): FiringAlert[];
}

/** What the firing alerts mean for one evaluation of a policy; none without Alertmanager conditions. */
export async function alertTriggers(
  client: Client,
  cluster: string,
  policy: CheckedPolicy,
  firing: readonly FiringAlert[],
): Promise<AlertTriggers | undefined> {
  const conditions = policy.spec.conditions.filter((c) => c.source === 'Alertmanager');
  if (conditions.length === 0) return undefined;
  // Only alerts some condition selects are looked up, so unrelated alerts cost no list call.
  const matchers = conditions.map((c) => c.alertmanager!.matchers.map(parseMatcher));
  const selected = firing.filter((alert) =>
    matchers.some((all) => all.every((m) => matches(m, alert.labels))),
  );
  const consumed = await alertsThatTriggered(client, cluster, policy.ref, selected);
  const eligible = (target: TargetRef) =>
    notYetTriggered(selected, consumed, remediationWorkflowId(cluster, target, policy.ref));
  return {
    eligible,
    behind(target, readings) {
      const podNames = new Set(target.pods.map((p) => p.metadata?.name));
      const holding = conditions.filter((c) => readings.find((r) => r.name === c.name)?.holds);
      const alerts = holding.flatMap((c) =>
        alertsFor(c.alertmanager!, { ref: target.ref, podNames }, eligible(target.ref)),
      );
      return [...new Map(alerts.map((a) => [alertKey(a), a])).values()];
    },
  };
}

/**
 * Workflow for bench/remediation-cost.ts only: the Kubernetes calls a Scale remediation makes
 * (read the target for the backup, apply the new replicas, read it and its Pods to verify,
 * record an Event), as plain activities in a plain workflow, without KubeMedic's gate, status,
 * governors or history of its own: the baseline of P3 and P4.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { BareActivities, BareTarget } from './bare-activities.ts';

const { backup, scale, verify, record } = proxyActivities<BareActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});

export async function bareScale(target: BareTarget, replicas: number): Promise<number> {
  const before = await backup(target);
  await scale(target, replicas);
  const pods = await verify(target);
  await record(target, `scaled from ${before} to ${replicas}; ${pods} Pod(s)`);
  return before;
}

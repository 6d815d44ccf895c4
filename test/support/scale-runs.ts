/**
 * The run most end-to-end files start by hand: a Deployment of 2 Available replicas under a
 * policy that scales it to 3 while it is unavailable (so verification passes once KWOK runs the
 * new Pods), started now as the watcher would start it. `spec` replaces any part of the policy.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../../domain/messages.ts';
import type { remediation } from '../../workflows/remediation.ts';
import { createPolicy, deploymentUnavailable, type KubeMedic, startRunNow } from './kubemedic.ts';
import { eventually } from './stack.ts';
import { createAvailableDeployment } from './workloads.ts';

export type RunHandle = WorkflowHandle<typeof remediation>;

export async function givenScalePolicy(
  medic: KubeMedic,
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {},
) {
  await createAvailableDeployment(namespace, name, 2);
  const metadata = { name, namespace };
  await createPolicy('RemediationPolicy', metadata, {
    target: { kind: 'Deployment', name },
    conditions: [deploymentUnavailable('unavailable', 1)],
    actions: [{ type: 'Scale', scale: { replicas: 3 } }],
    verification: { settle: '1s' },
    cooldown: '1s',
    ...spec,
  });
  const target = { kind: 'Deployment' as const, namespace, name };
  return { metadata, target, start: (): Promise<RunHandle> => startRunNow(medic, metadata, target) };
}

/** Waits until the run reports `phase`. */
export const inPhase = (handle: RunHandle, phase: string) =>
  eventually(`phase ${phase}`, async () =>
    (await handle.query(statusQuery)).phase === phase ? true : undefined,
  );

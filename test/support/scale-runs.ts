/**
 * The run most end-to-end files start by hand: a Deployment of 2 Available replicas under a
 * policy that scales it to 3 while it is unavailable (so verification passes once KWOK runs the
 * new Pods), started now as the watcher would start it. The scenario's `given.scalePolicy`
 * (scenario.ts) is the typed way to it; `givenScalePolicy` stays for cli.test.ts.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../../domain/messages.ts';
import type { Phase } from '../../domain/run.ts';
import type { remediation } from '../../workflows/remediation.ts';
import { createUncheckedPolicy, type KubeMedic, startRunNow } from './kubemedic.ts';
import { conditions, deploymentPolicy, type PolicySpecInput, scale } from './policy-builder.ts';
import { eventually } from './stack.ts';
import { createAvailableDeployment } from './workloads.ts';

export type RunHandle = WorkflowHandle<typeof remediation>;

/** The scale policy's spec for the Deployment `name`; `spec` adds to or replaces any part. */
export const scalePolicySpec = (name: string, spec: Partial<PolicySpecInput> = {}): PolicySpecInput =>
  deploymentPolicy(name, {
    conditions: [conditions.deploymentUnavailable('unavailable', 1)],
    actions: [scale({ replicas: 3 })],
    ...spec,
  });

/**
 * The Deployment and the scale policy, both named `name`. Its `spec` is untyped because
 * cli.test.ts (the CLI engineer's) passes one; typed tests use the scenario's `given.scalePolicy`.
 */
export async function givenScalePolicy(
  medic: KubeMedic,
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {},
) {
  await createAvailableDeployment(namespace, name, 2);
  const metadata = { name, namespace };
  await createUncheckedPolicy('RemediationPolicy', metadata, { ...scalePolicySpec(name), ...spec });
  const target = { kind: 'Deployment' as const, namespace, name };
  return { metadata, target, start: (): Promise<RunHandle> => startRunNow(medic, metadata, target) };
}

/** Waits until the run reports `phase` (a run not started yet is waited for too). */
export const inPhase = (handle: RunHandle, phase: Phase) =>
  eventually(`phase ${phase}`, async () =>
    (await handle.query(statusQuery)).phase === phase ? true : undefined,
  );

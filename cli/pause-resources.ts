/**
 * `kubemedic pause` and `resume` by default: a RemediationPause for this cluster (and policy),
 * created as your Kubernetes user and relayed to the governor by the watcher; resume deletes the
 * matching pauses, and the watcher's finalizer goes once the governor has resumed. So the pause
 * is visible to `kubectl get remediationpauses` and GitOps, and who paused is the API server's word.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPause, deletePause, listPauses, readPause } from '../domain/kube/decisions.ts';
import { failedWith } from '../domain/kube/errors.ts';
import { flag } from './command.ts';
import type { Context } from './context.ts';
import { decisionRefused } from './decision-resources.ts';
import { unreachable } from './errors.ts';

const relayTimeoutMs = 30_000;

/** Polls `done` until it holds; past the timeout, exit 5 naming what did not happen. */
async function until(done: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + relayTimeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) {
      throw unreachable(`${what} within ${relayTimeoutMs / 1000}s: is the KubeMedic watcher running?`);
    }
    await sleep(500);
  }
}

export async function pauseByResource(context: Context, values: Record<string, unknown>) {
  const kubeconfig = await context.kubeconfig();
  const spec = {
    cluster: context.flags.cluster,
    policy: flag(values, 'policy'),
    reason: flag(values, 'reason'),
  };
  const created = await createPause(kubeconfig, { generateName: 'pause-' }, spec).catch((error: unknown) => {
    throw decisionRefused(kubeconfig, error, 'the cluster (remediationpauses are cluster-scoped)');
  });
  const { name } = created.metadata;
  await until(
    async () => (await readPause(kubeconfig, name)).status?.phase === 'Paused',
    `RemediationPause ${name} was created but no watcher paused the governor`,
  );
  return { pause: name, decidedBy: created.spec.decidedBy };
}

/** Deletes every pause of this cluster and scope and waits until each is gone (resumed). */
export async function resumeByResource(context: Context, values: Record<string, unknown>) {
  const kubeconfig = await context.kubeconfig();
  const policy = flag(values, 'policy');
  const matching = (await listPauses(kubeconfig)).filter(
    (p) => (p.spec.cluster ?? context.flags.cluster) === context.flags.cluster && p.spec.policy === policy,
  );
  const names = matching.map((p) => p.metadata.name);
  for (const name of names) {
    await deletePause(kubeconfig, name).catch((error: unknown) => {
      if (!failedWith(error, 404)) throw decisionRefused(kubeconfig, error, 'the cluster');
    });
  }
  await until(async () => (await remaining(kubeconfig, names)) === 0, 'the watcher did not resume');
  return names;
}

async function remaining(kubeconfig: KubeConfig, names: string[]): Promise<number> {
  const present = new Set((await listPauses(kubeconfig)).map((p) => p.metadata.name));
  return names.filter((name) => present.has(name)).length;
}

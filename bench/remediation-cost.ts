/**
 * P3 and P4: what KubeMedic costs over the Kubernetes calls it makes. A whole remediation (Scale,
 * settle 0, cooldown 0: gate with both governors, backup, execute, verify, status, Events,
 * outcome) on KubeMedic's real worker, beside a bare Temporal workflow making the same calls as
 * plain activities (bench/bare.workflows.ts), on a worker of its own. Both act on Deployments
 * of 0 replicas scaled to 1 (KWOK never needs to run anything).
 *
 * - P3: one run at a time, start → result, p50.
 * - P4: a storm of runs started at once, one per Deployment: runs completed per second.
 */
import { fileURLToPath } from 'node:url';
import { group, policyKinds, version } from '../api/policy.ts';
import { taskQueueFor } from '../domain/config/names.ts';
import { checkPolicy, startRemediation } from '../policy-watcher/index.ts';
import type { PolicyObject } from '../policy-watcher/policies.ts';
import { createWorker } from '../worker/worker.ts';
import { bareActivities } from './bare-activities.ts';
import { type BenchContext, neverFires } from './context.ts';
import { type Figure, summarize } from './measure.ts';
import { idleDeployment } from './triggers.ts';
import { benchWorker, startedWorker } from './workers.ts';

export async function remediationCost(
  ctx: BenchContext,
  { runs, storm }: { runs: number; storm: number },
): Promise<Figure[]> {
  const namespace = await ctx.namespace('p3');
  const name = (mode: string, i: number) => `${mode}-${i}`;
  for (const mode of ['one', 'storm', 'bare-one', 'bare-storm'])
    for (let i = 0; i < (mode.endsWith('one') ? runs + 1 : storm); i++)
      await idleDeployment(ctx, namespace, name(mode, i), `p3-${mode}`);

  const policyFor = async (mode: string) => {
    await ctx.policy('RemediationPolicy', `p3-${mode}`, namespace, {
      target: { kind: 'Deployment', selector: { matchLabels: { bench: `p3-${mode}` } } },
      conditions: [neverFires],
      actions: [{ type: 'Scale', scale: { replicas: 1 } }],
      verification: { settle: '0s' },
      cooldown: '0s',
      limits: { maxConcurrent: 1000, maxPerHour: 100_000 },
    });
    const object = await ctx.custom.getNamespacedCustomObject({
      group,
      version,
      plural: policyKinds.RemediationPolicy.plural,
      namespace,
      name: `p3-${mode}`,
    });
    const check = checkPolicy('RemediationPolicy', object as PolicyObject);
    if (!check.valid) throw new Error(`the bench's policy is invalid: ${check.reason}`);
    return check.policy;
  };
  const policies = { one: await policyFor('one'), storm: await policyFor('storm') };

  await startedWorker(ctx, (connection, temporalNamespace) =>
    createWorker({
      connection,
      namespace: temporalNamespace,
      taskQueue: taskQueueFor(ctx.id),
      kubeconfig: ctx.kubeconfig,
      prometheusUrl: undefined,
      requireServiceAccount: false,
      globalLimits: { maxConcurrent: 1000, maxPerHour: 100_000 },
      shutdownGraceTime: '2 seconds',
    }),
  );
  const bareQueue = `${ctx.id}-bare`;
  await benchWorker(ctx, {
    taskQueue: bareQueue,
    workflowsPath: fileURLToPath(new URL('./bare.workflows.ts', import.meta.url)),
    activities: bareActivities(ctx.kubeconfig),
  });

  const remediate = async (mode: 'one' | 'storm', i: number) => {
    const started = performance.now();
    const target = { kind: 'Deployment' as const, namespace, name: name(mode, i) };
    const workflowId = await startRemediation(ctx.client, ctx.id, policies[mode], target, [], new Date());
    ctx.started(workflowId);
    const result = (await ctx.client.workflow.getHandle(workflowId).result()) as {
      outcome?: string;
      reason?: string;
    };
    if (result.outcome !== 'Succeeded')
      throw new Error(`${workflowId} ended ${result.outcome}: ${result.reason}`);
    return performance.now() - started;
  };
  const bare = async (mode: 'bare-one' | 'bare-storm', i: number) => {
    const started = performance.now();
    const workflowId = `${bareQueue}/${mode}/${i}`;
    await ctx.client.workflow.execute('bareScale', {
      workflowId,
      taskQueue: bareQueue,
      args: [{ namespace, name: name(mode, i) }, 1],
    });
    return performance.now() - started;
  };
  /** Run 0 warms the worker (its first workflow task, its connections) and is left out. */
  const oneAtATime = async (fn: (i: number) => Promise<number>) => {
    await fn(0);
    const durations: number[] = [];
    for (let i = 1; i <= runs; i++) durations.push(await fn(i));
    return summarize(durations);
  };
  const throughput = async (fn: (i: number) => Promise<number>) => {
    const started = performance.now();
    await Promise.all(Array.from({ length: storm }, (_, i) => fn(i)));
    return storm / ((performance.now() - started) / 1000);
  };

  const one = await oneAtATime((i) => remediate('one', i));
  const bareOne = await oneAtATime((i) => bare('bare-one', i));
  const stormRate = await throughput((i) => remediate('storm', i));
  const bareRate = await throughput((i) => bare('bare-storm', i));
  return [
    {
      id: 'P3',
      what: 'a whole remediation (Scale, settle 0), start → result, p50',
      unit: 'ms',
      value: one.p50,
      baseline: { what: 'a bare workflow making the same API calls, p50', value: bareOne.p50 },
      goal: { text: '≤ 1.3×', met: one.p50 <= 1.3 * bareOne.p50 },
      detail: { kubemedic: one, bare: bareOne },
    },
    {
      id: 'P4',
      what: `remediations completed per second, ${storm} at once`,
      unit: '/s',
      value: stormRate,
      baseline: { what: 'the bare workflow, same storm', value: bareRate },
      goal: { text: '≥ 0.8×', met: stormRate >= 0.8 * bareRate },
    },
  ];
}

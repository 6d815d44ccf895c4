/**
 * P2: the latency the safety governor adds to a remediation. Side by side in one run, workflows
 * that do nothing (the baseline: start, one workflow task, completion) and workflows that ask
 * the policy and cluster governors for permits and release them, as every remediation run does
 * — by update (today's shape) and by signal (the shape before `permits-by-update`, for the
 * before/after), first one at a time, then many at once.
 */
import { fileURLToPath } from 'node:url';
import { globalGovernorId, policyGovernorId } from '../domain/governor.ts';
import type { BenchContext } from './context.ts';
import { type Figure, summarize } from './measure.ts';
import { benchWorker } from './workers.ts';
import { createGovernorActivities } from '../activities/governors.ts';

type Probe = 'noGovernor' | 'permitProbe' | 'permitProbeBySignal';

export async function permitLatency(ctx: BenchContext, { runs }: { runs: number }): Promise<Figure[]> {
  const taskQueue = `${ctx.id}-permits`;
  await benchWorker(ctx, {
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./permit-probe.workflows.ts', import.meta.url)),
    activities: createGovernorActivities({}),
  });
  const { client } = ctx;
  const governors = [
    { id: policyGovernorId(taskQueue, 'bench/policy'), limits: { maxConcurrent: 1000, maxPerHour: 100_000 } },
    { id: globalGovernorId(taskQueue), limits: {} },
  ];
  for (const { id } of governors) {
    await client.workflow.start('governor', {
      workflowId: id,
      taskQueue,
      args: [],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    ctx.started(id);
  }

  const timeOne = async (workflow: Probe, mode: string, i: number) => {
    const started = performance.now();
    const ok = await client.workflow.execute(workflow, {
      workflowId: `${taskQueue}/${mode}/${i}`,
      taskQueue,
      args: workflow === 'noGovernor' ? [] : [governors],
    });
    if (!ok) throw new Error(`${mode} run ${i} was refused a permit`);
    return performance.now() - started;
  };
  const measure = async (workflow: Probe, concurrent: boolean) => {
    const mode = `${workflow}-${concurrent ? 'many' : 'one'}`;
    const indexes = Array.from({ length: runs }, (_, i) => i);
    if (concurrent) return summarize(await Promise.all(indexes.map((i) => timeOne(workflow, mode, i))));
    const durations: number[] = [];
    for (const i of indexes) durations.push(await timeOne(workflow, mode, i));
    return summarize(durations);
  };

  const bareOne = await measure('noGovernor', false);
  const permitOne = await measure('permitProbe', false);
  const signalOne = await measure('permitProbeBySignal', false);
  const bareMany = await measure('noGovernor', true);
  const permitMany = await measure('permitProbe', true);
  const signalMany = await measure('permitProbeBySignal', true);
  const figure = (
    what: string,
    permit: typeof bareOne,
    bare: typeof bareOne,
    bySignal: typeof bareOne,
  ): Figure => ({
    id: 'P2',
    what,
    unit: 'ms',
    value: permit.p50,
    baseline: { what: 'the same workflow without governors, p50', value: bare.p50 },
    goal: { text: '≤ 1.5×', met: permit.p50 <= 1.5 * bare.p50 },
    detail: { permit, bare, bySignal },
  });
  const extra = (permit: typeof bareOne, bare: typeof bareOne) => permit.p50 - bare.p50;
  return [
    figure('permit from 2 governors by update, one at a time, p50', permitOne, bareOne, signalOne),
    figure(`permit from 2 governors by update, ${runs} at once, p50`, permitMany, bareMany, signalMany),
    {
      id: 'P2',
      what: 'before: permit from 2 governors by signal (runs before permits-by-update), one at a time, p50',
      unit: 'ms',
      value: signalOne.p50,
      baseline: { what: 'the same workflow without governors, p50', value: bareOne.p50 },
    },
    {
      id: 'P2',
      what: `before: by signal, ${runs} at once, p50`,
      unit: 'ms',
      value: signalMany.p50,
      baseline: { what: 'the same workflow without governors, p50', value: bareMany.p50 },
    },
    {
      id: 'P2',
      what: `per permit at ${runs} at once vs at 1 (the governors' extra time by update), p50`,
      unit: 'ms',
      value: extra(permitMany, bareMany),
      baseline: { what: 'the extra at 1', value: extra(permitOne, bareOne) },
      goal: {
        text: 'no slower per permit at 40 than at 1',
        met: extra(permitMany, bareMany) <= extra(permitOne, bareOne),
      },
    },
  ];
}

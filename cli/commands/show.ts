/** `kubemedic show <run>`: where a run stands — phase, target, steps, backup, outcome and reason. */
import type { Command } from '../command.ts';
import type { Context } from '../context.ts';
import { describeApproval, describePolicy, describeStep, describeTarget } from '../describe-run.ts';
import { messageOf } from '../errors.ts';
import { fields, isoTime } from '../output.ts';
import { findRun, readStatus, type Run, runIdHelp, runIdOption } from '../runs.ts';
import { watch, watchOption } from '../watch.ts';

export const show: Command = {
  name: 'show',
  summary: "a run's phase, target, steps, backup, outcome and reason",
  usage: 'show <run> [-n NS] [--policy NAME] [--run-id ID] [--watch]',
  help: [
    'A completed run is read from its result; a running, failed or terminated one is asked',
    'through the `status` query (a worker must answer).',
    '  --watch, -w         print the run again each time it changes, until it has its outcome',
    '                      (or ends), or Ctrl-C',
    runIdHelp,
  ],
  options: { ...runIdOption, ...watchOption },
  async run(context, [name], values) {
    const run = await findRun(context, name, values);
    if (values.watch !== true) return print(context, await snapshot(context, run));
    let last = '';
    await watch(async () => {
      const current = await snapshot(context, {
        ...run,
        description: await run.handle.describe(),
      });
      const seen = JSON.stringify(current.data);
      if (seen !== last) {
        if (last !== '' && !context.out.structured) context.out.line();
        print(context, current);
        last = seen;
      }
      // A run with its outcome only cools down (which can take hours): nothing more to see.
      return current.data.status !== 'RUNNING' || current.status?.outcome !== undefined;
    });
  },
};

type Snapshot = Awaited<ReturnType<typeof snapshot>>;

async function snapshot(context: Context, run: Run) {
  const d = run.description;
  let unavailable: string | undefined;
  const status = await readStatus(run).catch((error: unknown) => {
    if (context.out.structured) throw error;
    unavailable = `(status unavailable: ${messageOf(error)})`;
    return undefined;
  });
  const data = {
    workflowId: d.workflowId,
    runId: d.runId,
    status: d.status.name,
    taskQueue: d.taskQueue,
    startTime: isoTime(d.startTime),
    closeTime: d.closeTime ? isoTime(d.closeTime) : undefined,
    ...status,
  };
  return { data, status, unavailable, description: d };
}

function print(context: Context, { data, status, unavailable, description: d }: Snapshot): void {
  if (unavailable) context.out.line(unavailable);
  context.out.result(data, () => {
    context.out.line(
      fields([
        ['Run', d.workflowId],
        ['Run ID', d.runId],
        ['Status', d.status.name],
        ['Phase', status?.phase],
        ['Target', status && describeTarget(status)],
        ['Policy', status && describePolicy(status)],
        ['Dry run', status?.dryRun ? 'yes: nothing is changed' : undefined],
        ['Started', isoTime(d.startTime)],
        ['Ended', d.closeTime ? isoTime(d.closeTime) : undefined],
        ['Approval', status && describeApproval(status)],
        ['Outcome', status?.outcome],
        ['Reason', status?.reason],
      ]),
    );
    if (status && status.steps.length > 0) {
      context.out.line('Steps');
      for (const step of status.steps) for (const line of describeStep(step)) context.out.line(`  ${line}`);
    }
  });
}

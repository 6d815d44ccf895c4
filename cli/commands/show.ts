/** `kubemedic show <run>`: where a run stands — phase, target, steps, backup, outcome and reason. */
import type { Command } from '../command.ts';
import { flag } from '../command.ts';
import { describeApproval, describePolicy, describeStep, describeTarget } from '../describe-run.ts';
import { messageOf } from '../errors.ts';
import { fields, isoTime } from '../output.ts';
import { findRun, readStatus, runIdHelp, runIdOption } from '../runs.ts';

export const show: Command = {
  name: 'show',
  summary: "a run's phase, target, steps, backup, outcome and reason",
  usage: 'show <run> [--run-id ID]',
  help: [
    '<run> is the workflow ID `kubemedic list` prints. A completed run is read from its result; a',
    'running, failed or terminated one is asked through the `status` query (a worker must answer).',
    runIdHelp,
  ],
  options: { ...runIdOption },
  async run(context, [workflowId], values) {
    const run = await findRun(context, workflowId, flag(values, 'run-id'));
    const d = run.description;
    const status = await readStatus(run).catch((error: unknown) => {
      if (context.out.structured) throw error;
      context.out.line(`(status unavailable: ${messageOf(error)})`);
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
  },
};

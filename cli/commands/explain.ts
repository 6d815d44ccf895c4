/** `kubemedic explain <run>`: why the run did or skipped what it did, as a plain-language timeline. */
import type { Command } from '../command.ts';
import { readHistory } from '../history.ts';
import { fields, table } from '../output.ts';
import { findRun, runIdHelp, runIdOption } from '../runs.ts';
import { explain as explainHistory } from '../timeline.ts';

export const explain: Command = {
  name: 'explain',
  summary: 'why a run did or skipped what it did: a timeline from its history',
  usage: 'explain <run> [--run-id ID]',
  help: [
    "Reads the run's event history (no worker needed) and tells, in order: the trigger, the",
    "approval, each safety governor's permit (granted, or refused and why), the backup and its",
    'hash, what the action changed, the verification, rollbacks and conflicts, and the cooldown.',
    runIdHelp,
  ],
  options: { ...runIdOption },
  async run(context, [workflowId], values) {
    const run = await findRun(context, workflowId, values);
    const explanation = explainHistory(await readHistory(run.handle));
    const data = {
      workflowId: run.description.workflowId,
      runId: run.description.runId,
      status: run.description.status.name,
      ...explanation,
    };
    context.out.result(data, () => {
      context.out.line(
        fields([
          ['Run', data.workflowId],
          ['Status', data.status],
          ['Outcome', explanation.outcome ?? (run.running ? 'not yet decided' : undefined)],
          ['Reason', explanation.reason],
        ]),
      );
      context.out.line();
      context.out.line(
        table(
          ['TIME', 'STEP', 'WHAT HAPPENED'],
          // The time of day is enough on one screen; -o wide gives the whole timestamp.
          explanation.timeline.map((e) => [context.out.wide ? e.time : e.time.slice(11, 19), e.what, e.text]),
        ),
      );
    });
  },
};

/** `kubemedic history <run>`: the run's event history, the audit trail, as a table or JSON. */
import type { Command } from '../command.ts';
import { readHistory } from '../history.ts';
import { table } from '../output.ts';
import { findRun, runIdHelp, runIdOption } from '../runs.ts';

export const history: Command = {
  name: 'history',
  summary: "a run's event history (the audit trail)",
  usage: 'history <run> [--run-id ID] [--all]',
  help: [
    'Each event with its id, time, type and details; with --json, payloads decoded as values.',
    '  --all        include the workflow task events (scheduled, started, completed)',
    runIdHelp,
  ],
  options: { ...runIdOption, all: { type: 'boolean' } },
  async run(context, [workflowId], values) {
    const run = await findRun(context, workflowId, values);
    const events = (await readHistory(run.handle)).filter(
      (e) => values.all === true || !e.type.startsWith('WorkflowTask'),
    );
    context.out.result({ workflowId: run.description.workflowId, runId: run.description.runId, events }, () =>
      context.out.line(
        table(
          ['EVENT', 'TIME', 'TYPE', 'DETAILS'],
          events.map((e) => [String(e.id), e.time, e.type, e.details]),
        ),
      ),
    );
  },
};

/**
 * `kubemedic approve|reject <run>`: through the workflow's updates, so the answer is definite —
 * the decision as the run recorded it, or the validator's refusal (exit code 4).
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { approveUpdate, rejectUpdate } from '../../domain/messages.ts';
import { actor, byAndReason, type Command, flag } from '../command.ts';
import { messageOf, refused } from '../errors.ts';
import { findRun, fromWorker, runIdHelp, runIdOption } from '../runs.ts';

function decide(decision: 'approve' | 'reject'): Command {
  const update = decision === 'approve' ? approveUpdate : rejectUpdate;
  return {
    name: decision,
    summary: `${decision} a run that awaits approval (an update: the answer is definite)`,
    usage: `${decision} <run> [--by NAME] [--reason TEXT] [--run-id ID]`,
    help: [
      `Sends the \`${decision}\` update. When the run is not awaiting approval (already decided,`,
      'not asking, or ended) the workflow refuses and the command exits with code 4.',
      '  --by NAME      who decides (default: $USER)',
      "  --reason TEXT  why; kept in the run's history and status",
      runIdHelp,
    ],
    options: { ...byAndReason, ...runIdOption },
    async run(context, [name], values) {
      const run = await findRun(context, name, values);
      const workflowId = run.description.workflowId;
      if (!run.running) {
        throw refused(
          `the run is not awaiting approval: it has ended (${run.description.status.name}); see \`kubemedic show ${workflowId}\``,
        );
      }
      const answer = await fromWorker(
        run,
        `the ${decision} update`,
        run.handle.executeUpdate(update, {
          args: [{ by: actor(context, values), reason: flag(values, 'reason') }],
        }),
      ).catch((error: unknown) => {
        if (error instanceof WorkflowUpdateFailedError) {
          throw refused(`refused: ${messageOf(error.cause ?? error)}`);
        }
        throw error;
      });
      context.out.result(answer, () =>
        context.out.line(
          `${workflowId}: ${answer.decision} by ${answer.by}${answer.reason ? ` (${answer.reason})` : ''}`,
        ),
      );
    },
  };
}

export const approve = decide('approve');
export const reject = decide('reject');

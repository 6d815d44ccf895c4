/**
 * `kubemedic approve|reject <run>`: a RemediationDecision by default (cli/decision-resources.ts),
 * relayed by the watcher as the workflow's update; with --via-temporal the update itself. Either
 * way the answer is definite — the decision as the run recorded it, or its refusal (exit code 4).
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { approveUpdate, rejectUpdate } from '../../domain/messages.ts';
import { actor, type Command, flag } from '../command.ts';
import { messageOf, refused } from '../errors.ts';
import { findRun, fromWorker, runIdHelp, runIdOption } from '../runs.ts';
import {
  decideByResource,
  viaTemporal,
  viaTemporalHelp,
  viaTemporalOption,
  workflowIdOf,
} from '../decision-resources.ts';

function decide(decision: 'approve' | 'reject'): Command {
  const update = decision === 'approve' ? approveUpdate : rejectUpdate;
  return {
    name: decision,
    summary: `${decision} a run that awaits approval (the answer is definite)`,
    usage: `${decision} <run> [--reason TEXT] [--decision-namespace NS] [--via-temporal [--by NAME]] [--run-id ID]`,
    help: [
      `Decides by a RemediationDecision (or the \`${decision}\` update). When the run is not awaiting`,
      'approval (already decided, not asking, or ended) it refuses and the command exits with code 4.',
      "  --reason TEXT  why; kept in the run's history and status",
      viaTemporalHelp,
      runIdHelp,
    ],
    options: { reason: { type: 'string' }, ...viaTemporalOption, ...runIdOption },
    async run(context, [name], values) {
      if (!viaTemporal(values)) {
        const workflowId = await workflowIdOf(context, name, values);
        const answer = await decideByResource(context, workflowId, decision, values);
        context.out.result(answer, () =>
          context.out.line(`${workflowId}: ${answer.answer ?? answer.reason}`),
        );
        return;
      }
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
        // The run ended between findRun's look and the update ("workflow execution already completed").
        if (error instanceof WorkflowNotFoundError) {
          throw refused(
            `the run is not awaiting approval: it has ended (${messageOf(error)}); see \`kubemedic show ${workflowId}\``,
          );
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

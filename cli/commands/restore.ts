/**
 * `kubemedic restore <run>`: puts an ended run's backup back by hand, with the rollback's own
 * guarded restore (activities/actions): only fields that still hold what the action wrote are
 * restored; a field someone changed since is reported as a conflict and nothing is written.
 */
import { executedAsLeft, type RemediationInput, type RemediationStatus } from '../../domain/run.ts';
import type { Command } from '../command.ts';
import { kubeUnreachable } from '../context.ts';
import { fieldList } from '../describe-run.ts';
import { refused } from '../errors.ts';
import { readRunInput } from '../history.ts';
import { findRun, readStatus, runIdHelp, runIdOption } from '../runs.ts';

export const restore: Command = {
  name: 'restore',
  summary: "restore an ended run's backup by hand (refuses on conflict)",
  usage: 'restore <run> [--dry-run] [--run-id ID]',
  help: [
    "Takes the backup of the run's last action from its result (hash checked) and restores the",
    "fields the action wrote, as the rollback does, with your kubeconfig's identity. A field that",
    'someone changed since is never overwritten: the command prints the conflict and exits 4.',
    'Fields that already hold their backed-up values are left alone (NothingToRestore).',
    '  --dry-run    ask the API server to check the restore (dryRun=All) without keeping it',
    runIdHelp,
  ],
  options: { ...runIdOption, 'dry-run': { type: 'boolean' } },
  async run(context, [name], values) {
    const run = await findRun(context, name, values);
    const workflowId = run.description.workflowId;
    if (run.running) {
      throw refused(
        `the run is still running: cancel it with \`kubemedic cancel ${workflowId}\` (that rolls back), or wait until it ends`,
      );
    }
    const [status, input] = await Promise.all([readStatus(run), readRunInput(run.handle)]);
    if (status.dryRun)
      throw refused('the run was a dry run: it changed nothing, so there is nothing to restore');
    const step = lastActedStep(status, input);
    if (!step)
      throw refused('the run changed nothing (no action was executed), so there is nothing to restore');

    const dryRun = values['dry-run'] === true;
    const kubeconfig = await context.kubeconfig();
    // Imported here: the activities pull in the whole Kubernetes client, which other commands do not need.
    const { restoreByHand } = await import('../../activities/index.ts');
    const result = await restoreByHand(kubeconfig, step, dryRun).catch((error: unknown) => {
      throw kubeUnreachable(kubeconfig, error);
    });
    const data = { workflowId, dryRun, backup: step.backup, ...result };
    if (result.outcome === 'RollbackConflict' || result.outcome === 'NotReversible') {
      throw refused(`not restored: ${result.outcome}: ${result.reason}`);
    }
    context.out.result(data, () => {
      context.out.line(`${result.outcome}${dryRun ? ' (dry run, nothing kept)' : ''}: ${result.reason}`);
      if (Object.keys(result.restored).length > 0) context.out.line(`restored ${fieldList(result.restored)}`);
    });
  },
};

/**
 * The last step that executed: its backup, what its fields hold as the run left them, and its
 * Action from the run's input (rollback reads the action's parameters).
 */
function lastActedStep(status: RemediationStatus, input: RemediationInput) {
  const step = [...status.steps].reverse().find((s) => s.backup !== undefined && s.executed !== undefined);
  const action = step && input.spec.actions[step.index];
  return step?.backup && step.executed && action
    ? { backup: step.backup, executed: executedAsLeft(step.executed, step.revertedTo), action }
    : undefined;
}

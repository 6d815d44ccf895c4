/**
 * `kubemedic restore <run>`: puts an ended run's backup back by hand, with the rollback's own
 * guarded restore (activities/actions): only fields that still hold what the action wrote are
 * restored; a field someone changed since is reported as a conflict and nothing is written.
 */
import { restoreByHand } from '../../activities/index.ts';
import { type Backup, type ExecuteResult } from '../../domain/actions.ts';
import type { RemediationInput } from '../../domain/run.ts';
import { type Command, flag } from '../command.ts';
import { kubeUnreachable } from '../context.ts';
import { fieldList } from '../describe-run.ts';
import { refused } from '../errors.ts';
import { type RunEvent, readHistory } from '../history.ts';
import { findRun, runIdOption } from '../runs.ts';

export const restore: Command = {
  name: 'restore',
  summary: "restore an ended run's backup by hand (refuses on conflict)",
  usage: 'restore <run> [--dry-run] [--run-id ID]',
  help: [
    "Takes the backup of the run's last action from its history (hash checked) and restores the",
    "fields the action wrote, as the rollback does, with your kubeconfig's identity. A field that",
    'someone changed since is never overwritten: the command prints the conflict and exits 4.',
    'Fields that already hold their backed-up values are left alone (NothingToRestore).',
    '  --dry-run    ask the API server to check the restore (dryRun=All) without keeping it',
  ],
  options: { ...runIdOption, 'dry-run': { type: 'boolean' } },
  async run(context, [workflowId], values) {
    const run = await findRun(context, workflowId, flag(values, 'run-id'));
    if (run.running) {
      throw refused(
        `the run is still running: cancel it with \`kubemedic cancel ${workflowId}\` (that rolls back), or wait until it ends`,
      );
    }
    const events = await readHistory(run.handle);
    const input = events[0]?.data as RemediationInput | undefined;
    if (input?.spec?.dryRun)
      throw refused('the run was a dry run: it changed nothing, so there is nothing to restore');
    const step = lastActedStep(events);
    if (!step)
      throw refused('the run changed nothing (no action was executed), so there is nothing to restore');

    const dryRun = values['dry-run'] === true;
    const kubeconfig = context.kubeconfig();
    const result = await restoreByHand(kubeconfig, step.backup, step.executed, dryRun).catch(
      (error: unknown) => {
        throw kubeUnreachable(context, error);
      },
    );
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

/** The last step that executed: its backup and what it wrote (after a gradual revert's last step, that). */
function lastActedStep(events: RunEvent[]): { backup: Backup; executed: ExecuteResult } | undefined {
  let backup: Backup | undefined;
  let acted: { backup: Backup; executed: ExecuteResult } | undefined;
  for (const event of events) {
    if (event.type !== 'ActivityTaskCompleted') continue;
    if (event.name === 'backupTarget') backup = event.data as Backup;
    if (event.name === 'executeAction' && backup) acted = { backup, executed: event.data as ExecuteResult };
    if (event.name === 'revertPartly' && acted) {
      const partly = event.data as { outcome: string; written?: ExecuteResult['written'] };
      if (partly.outcome !== 'RollbackConflict' && partly.written) {
        acted = { ...acted, executed: { ...acted.executed, written: partly.written } };
      }
    }
  }
  return acted;
}

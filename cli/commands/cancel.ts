/**
 * `kubemedic cancel <run>`: a RemediationDecision by default (relayed as the cancel update), the
 * cancel signal with --via-temporal; the run rolls back whatever it changed.
 */
import { cancelSignal, statusQuery } from '../../domain/messages.ts';
import { actor, type Command, flag } from '../command.ts';
import {
  decideByResource,
  viaTemporal,
  viaTemporalHelp,
  viaTemporalOption,
  workflowIdOf,
} from '../decision-resources.ts';
import { refused } from '../errors.ts';
import { findRun, fromWorker, runIdHelp, runIdOption } from '../runs.ts';
import { setTimeout as sleep } from 'node:timers/promises';

export const cancel: Command = {
  name: 'cancel',
  summary: 'cancel a run; what it changed is rolled back',
  usage:
    'cancel <run> [--reason TEXT] [--wait] [--decision-namespace NS] [--via-temporal [--by NAME]] [--run-id ID]',
  help: [
    'Cancels by a RemediationDecision (or the `cancel` signal): the run stops and restores what it',
    'changed (unless someone else changed those fields since: then it keeps their change and says so).',
    "  --wait         wait for the run's outcome (the rollback) and print it",
    '  --reason TEXT  why',
    viaTemporalHelp,
    runIdHelp,
  ],
  options: { reason: { type: 'string' }, ...viaTemporalOption, ...runIdOption, wait: { type: 'boolean' } },
  async run(context, [name], values) {
    const byResource = !viaTemporal(values);
    let run = byResource ? undefined : await findRun(context, name, values);
    if (run && !run.running) {
      throw refused(`the run has already ended (${run.description.status.name}); nothing to cancel`);
    }
    const workflowId = run?.description.workflowId ?? (await workflowIdOf(context, name, values));
    if (run) {
      await run.handle.signal(cancelSignal, { by: actor(context, values), reason: flag(values, 'reason') });
    } else {
      await decideByResource(context, workflowId, 'cancel', values);
    }
    if (values.wait !== true) {
      context.out.result({ workflowId, cancelled: true }, () =>
        context.out.line(`${workflowId}: cancel sent; follow it with \`kubemedic show ${workflowId}\``),
      );
      return;
    }
    // The outcome is set before the cooldown, so wait for it rather than for the workflow to close.
    run ??= await findRun(context, workflowId, values);
    const status = await fromWorker(
      run,
      'the status query',
      (async () => {
        for (;;) {
          const current = await run.handle.query(statusQuery);
          if (current.outcome) return current;
          await sleep(500);
        }
      })(),
      120_000,
    );
    context.out.result({ workflowId, cancelled: true, outcome: status.outcome, reason: status.reason }, () =>
      context.out.line(`${workflowId}: ${status.outcome}: ${status.reason}`),
    );
  },
};

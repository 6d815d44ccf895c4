/**
 * `kubemedic pause|resume|status`: the safety governors' pause switch, for the whole cluster or
 * one policy. A paused governor refuses every new permit (runs end Skipped, reason "paused");
 * runs already holding a permit go on.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { taskQueueFor } from '../../domain/config/names.ts';
import {
  freeGrantSignal,
  globalGovernorId,
  type GovernorStatus,
  governorStatusQuery,
  pauseSignal,
  policyGovernorId,
  resumeSignal,
} from '../../domain/governor.ts';
import { actor, byAndReason, type Command, flag } from '../command.ts';
import { viaTemporal } from '../decision-resources.ts';
import { pauseByResource, resumeByResource } from '../pause-resources.ts';
import type { Context } from '../context.ts';
import { messageOf, notFound, unreachable, usageError } from '../errors.ts';
import { workerFix } from '../next-steps.ts';
import { fields } from '../output.ts';
import { workerTimeoutMs } from '../runs.ts';
import { within } from '../within.ts';

const policyOption = { policy: { type: 'string' } } as const;
const scopeHelp =
  '  --policy NS/NAME  only this policy (a ClusterRemediationPolicy: NAME); default: the whole cluster';

const governorId = (context: Context, values: Record<string, unknown>) => {
  const policy = flag(values, 'policy');
  return policy ? policyGovernorId(context.flags.cluster, policy) : globalGovernorId(context.flags.cluster);
};

const viaTemporalOptions = { 'via-temporal': { type: 'boolean' } } as const;
const viaTemporalLines = [
  'By default this is a RemediationPause (cluster-scoped; `kubectl get remediationpauses` shows it),',
  "created as your Kubernetes user (RBAC: the chart's <release>-pauser ClusterRole) and relayed to",
  'the governor by the policy watcher; `resume` deletes it.',
  '  --via-temporal  signal the governor directly (clusters without the CRDs)',
  '  --by NAME       with --via-temporal only: who acts (default: $USER)',
];

export const pause: Command = {
  name: 'pause',
  summary: 'pause remediation for the cluster (or one policy)',
  usage: 'pause [--policy NS/NAME] [--reason TEXT] [--via-temporal [--by NAME]]',
  help: [
    'New runs are refused a permit and end Skipped with reason "paused by NAME: TEXT" until',
    '`kubemedic resume`. Starts the governor if it does not run yet.',
    scopeHelp,
    ...viaTemporalLines,
  ],
  options: { ...policyOption, ...byAndReason, ...viaTemporalOptions },
  async run(context, _args, values) {
    if (!viaTemporal(values)) {
      const paused = await pauseByResource(context, values);
      context.out.result(paused, () =>
        context.out.line(
          `paused by ${paused.decidedBy} (RemediationPause ${paused.pause}); \`kubemedic resume\` lifts it`,
        ),
      );
      return;
    }
    const client = await context.temporal();
    const id = governorId(context, values);
    const by = actor(context, values);
    // signalWithStart starts the governor as the worker's ensureGovernors does, when it is not running.
    await client.workflow.signalWithStart('governor', {
      workflowId: id,
      taskQueue: taskQueueFor(context.flags.cluster),
      args: [],
      signal: pauseSignal,
      signalArgs: [{ by, reason: flag(values, 'reason') }],
      staticSummary: `KubeMedic safety governor ${id}`,
    });
    await report(context, client, id, (s) => s.paused !== undefined);
  },
};

export const resume: Command = {
  name: 'resume',
  summary: 'resume remediation paused with `pause`',
  usage: 'resume [--policy NS/NAME] [--via-temporal [--by NAME]]',
  help: ['Lifts the pause: the next runs ask for permits as usual.', scopeHelp, ...viaTemporalLines],
  options: { ...policyOption, by: { type: 'string' }, ...viaTemporalOptions },
  async run(context, _args, values) {
    if (!viaTemporal(values)) {
      const deleted = await resumeByResource(context, values);
      context.out.result({ resumed: deleted }, () =>
        context.out.line(
          deleted.length === 0
            ? 'no RemediationPause holds this scope (a pause made with --via-temporal is lifted with resume --via-temporal)'
            : `resumed: deleted RemediationPause ${deleted.join(', ')}`,
        ),
      );
      return;
    }
    const client = await context.temporal();
    const id = governorId(context, values);
    try {
      await client.workflow.getHandle(id).signal(resumeSignal, { by: actor(context, values) });
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      context.out.result({ governor: id, running: false, paused: false }, () =>
        context.out.line(`${id} is not running, so nothing is paused`),
      );
      return;
    }
    await report(context, client, id, (s) => s.paused === undefined);
  },
};

export const status: Command = {
  name: 'status',
  summary: 'whether remediation is paused, and what the governor holds',
  usage: 'status [--policy NS/NAME]',
  help: [
    "The governor's state: paused (by whom, why), active runs, queued requests, grants in the last hour.",
    scopeHelp,
  ],
  options: { ...policyOption },
  async run(context, _args, values) {
    const client = await context.temporal();
    await report(context, client, governorId(context, values), () => true);
  },
};

export const freeGrant: Command = {
  name: 'free-grant',
  summary: "free a run's permit by hand, with a reason",
  usage: 'free-grant <workflow-id> [--policy NS/NAME] --reason TEXT [--by NAME]',
  help: [
    'The governor frees the grants of runs that closed without releasing them on its own (it checks',
    "every 5 minutes); this frees one at once. Who and why are kept in the governor's history.",
    '`kubemedic status` lists the runs holding grants.',
    scopeHelp,
  ],
  options: { ...policyOption, ...byAndReason },
  async run(context, args, values) {
    const [workflowId] = args;
    const reason = flag(values, 'reason');
    if (!workflowId || !reason) throw usageError("free-grant needs the run's workflow ID and --reason");
    const client = await context.temporal();
    const id = governorId(context, values);
    await client.workflow
      .getHandle(id)
      .signal(freeGrantSignal, { workflowId, by: actor(context, values), reason });
    await report(context, client, id, (s) => !s.active.includes(workflowId));
  },
};

/** Prints the governor's status once it shows `settled` (a signal is applied by a workflow task). */
async function report(
  context: Context,
  client: Client,
  id: string,
  settled: (status: GovernorStatus) => boolean,
): Promise<void> {
  const handle = client.workflow.getHandle(id);
  const deadline = Date.now() + workerTimeoutMs;
  let current: GovernorStatus;
  for (;;) {
    try {
      current = await within(
        Math.max(1000, deadline - Date.now()),
        handle.query(governorStatusQuery),
        () => new Error(`no answer within ${workerTimeoutMs / 1000}s`),
      );
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        throw notFound(
          `${id} is not running: it starts with the first run of the cluster, or with \`kubemedic pause\``,
        );
      }
      if (Date.now() > deadline) {
        throw unreachable(
          `no worker answered for ${id} on task queue ${taskQueueFor(context.flags.cluster)}: ` +
            `is the KubeMedic worker for cluster ${context.flags.cluster} running? ` +
            `${workerFix(taskQueueFor(context.flags.cluster))} (${messageOf(error)})`,
        );
      }
      await sleep(500);
      continue;
    }
    if (settled(current) || Date.now() > deadline) break;
    await sleep(250);
  }
  const paused = current.paused;
  context.out.result(
    { governor: id, running: true, ...current, paused: paused !== undefined, pausedBy: paused },
    () =>
      context.out.line(
        fields([
          ['Governor', id],
          ['Paused', paused ? `yes, by ${paused.by}${paused.reason ? `: ${paused.reason}` : ''}` : 'no'],
          [
            'Active runs',
            current.active.length === 0 ? '0' : `${current.active.length}: ${current.active.join(', ')}`,
          ],
          ['Queued', String(current.queued)],
          ['Granted (1h)', String(current.grantedLastHour)],
        ]),
      ),
  );
}

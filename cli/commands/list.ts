/**
 * `kubemedic list`: remediation runs from Temporal visibility, filtered by the custom search
 * attributes; `kubemedic list policies`: the policies in the cluster, from the API server.
 */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { group, policyKinds, version } from '../../api/index.ts';
import { searchAttributes } from '../../domain/search-attributes.ts';
import { outcomes, phases, remediationWorkflowType } from '../../domain/run.ts';
import { type Command, flag } from '../command.ts';
import { type Context, kubeUnreachable } from '../context.ts';
import { usageError } from '../errors.ts';
import { columns, isoTime, type Output } from '../output.ts';
import { quoted } from '../runs.ts';
import { watch, watchOption } from '../watch.ts';

export const list: Command = {
  name: 'list',
  summary: 'list remediation runs (or `list policies`)',
  usage:
    'list [policies] [--policy NS/NAME] [--namespace NS] [--phase PHASE] [--running] [--all-clusters] [--limit N] [--watch]',
  help: [
    'Runs of this cluster (--cluster), newest first, from Temporal visibility.',
    '  --policy NS/NAME  only runs of this policy (a ClusterRemediationPolicy: NAME)',
    '  --namespace, -n   only runs whose target is in this Kubernetes namespace',
    '  --phase PHASE     only runs in this phase or with this outcome (AwaitingApproval, Succeeded, Skipped...)',
    '  --running         only runs that have not ended (cooling down counts as running)',
    '  --all-clusters, -A  runs of every cluster sharing the Temporal namespace, with a CLUSTER column',
    '  --limit N         at most N runs (default 50)',
    '  --watch, -w       after the table, print each run that starts or changes, until Ctrl-C',
    '`list policies` lists RemediationPolicies and ClusterRemediationPolicies with their last outcome.',
  ],
  options: {
    policy: { type: 'string' },
    namespace: { type: 'string', short: 'n' },
    phase: { type: 'string' },
    running: { type: 'boolean' },
    'all-clusters': { type: 'boolean', short: 'A' },
    limit: { type: 'string' },
    ...watchOption,
  },
  async run(context, args, values) {
    if (args[0] === 'policies') {
      if (values.watch === true) throw usageError('--watch follows runs; `list policies` has no --watch');
      return listPolicies(context, flag(values, 'namespace'));
    }
    if (args.length > 0) throw usageError(`list takes no argument but \`policies\`, not ${args.join(' ')}`);
    const phase = flag(values, 'phase');
    if (phase !== undefined && !(knownPhases as readonly string[]).includes(phase)) {
      throw usageError(`--phase is one of ${knownPhases.join(', ')}; not ${phase}`);
    }
    const limit = Number(flag(values, 'limit') ?? 50);
    if (!Number.isInteger(limit) || limit < 1) throw usageError('--limit takes a positive whole number');
    const read = () => readRuns(context, values, limit);
    const table = (runs: RunRow[]) => runTable(context.out, runs, values['all-clusters'] === true);
    if (values.watch !== true) {
      const runs = await read();
      context.out.result(runs, () =>
        context.out.line(runs.length === 0 ? noRuns(context, values) : table(runs)),
      );
      return;
    }
    await watchRuns(context, values, read, table);
  },
};

const noRuns = (context: Context, values: Record<string, unknown>) =>
  values['all-clusters'] === true
    ? 'no runs in any cluster match'
    : `no runs in cluster ${context.flags.cluster} match (another cluster's runs: --cluster NAME, every cluster's: --all-clusters)`;

async function readRuns(context: Context, values: Record<string, unknown>, limit: number): Promise<RunRow[]> {
  const client = await context.temporal();
  const runs: RunRow[] = [];
  for await (const info of client.workflow.list({ query: runsQuery(context.flags.cluster, values) })) {
    runs.push(rowOf(info));
    if (runs.length >= limit) break;
  }
  return runs;
}

/** With every cluster's runs, the CLUSTER column comes first: it is what tells them apart. */
const clusterColumn: [string, (r: RunRow) => string] = ['CLUSTER', (r) => r.cluster ?? ''];

const runTable = (out: Output, runs: RunRow[], allClusters: boolean) =>
  columns(
    out,
    runs,
    [
      ...(allClusters ? [clusterColumn] : []),
      ['ID', (r) => r.workflowId],
      ['PHASE', (r) => r.phase ?? ''],
      [
        'TARGET',
        (r) => [r.target.kind, [r.target.namespace, r.target.name].filter(Boolean).join('/')].join(' '),
      ],
      ['POLICY', (r) => r.policy ?? ''],
      ['ACTION', (r) => r.action ?? ''],
      ['STARTED', (r) => r.startTime],
      ['STATUS', (r) => r.status],
    ],
    [
      ['ENDED', (r) => r.closeTime ?? ''],
      ['RUN ID', (r) => r.runId],
    ],
  );

/**
 * `list --watch`: the table, then one line for each run that appears or changes, as `kubectl get
 * -w` prints (aligned with the first table); with -o json|yaml, one document per run and change.
 */
async function watchRuns(
  context: Context,
  values: Record<string, unknown>,
  read: () => Promise<RunRow[]>,
  runTable: (runs: RunRow[]) => string,
): Promise<void> {
  const printed = new Map<string, string>();
  let first: RunRow[] | undefined;
  await watch(async () => {
    const runs = await read();
    const changed = runs.filter((r) => printed.get(`${r.workflowId}/${r.runId}`) !== JSON.stringify(r));
    for (const r of changed) printed.set(`${r.workflowId}/${r.runId}`, JSON.stringify(r));
    if (context.out.structured) {
      // Oldest change first, as the lines of a log.
      for (const r of changed.reverse()) context.out.result(r, () => undefined);
    } else if (first === undefined) {
      first = runs;
      context.out.line(runs.length === 0 ? `${noRuns(context, values)}; watching` : runTable(runs));
    } else {
      const lines = runTable([...first, ...changed.reverse()]).split('\n');
      for (const line of lines.slice(1 + first.length)) context.out.line(line);
    }
    return false;
  });
}

const knownPhases = [...phases, ...outcomes];

export interface RunRow {
  workflowId: string;
  runId: string;
  phase?: string;
  target: { kind?: string; namespace?: string; name?: string };
  policy?: string;
  action?: string;
  cluster?: string;
  startTime: string;
  closeTime?: string;
  status: string;
}

/** A visibility query; values are quoted, so a filter cannot change the query's shape. */
export function runsQuery(cluster: string, values: Record<string, unknown>): string {
  const clauses = [`WorkflowType = '${remediationWorkflowType}'`];
  if (values['all-clusters'] !== true) clauses.push(`${searchAttributes.cluster.name} = ${quoted(cluster)}`);
  const filters = [
    [searchAttributes.policy.name, flag(values, 'policy')],
    [searchAttributes.namespace.name, flag(values, 'namespace')],
    [searchAttributes.phase.name, flag(values, 'phase')],
  ] as const;
  for (const [attribute, value] of filters) if (value) clauses.push(`${attribute} = ${quoted(value)}`);
  if (values.running === true) clauses.push(`ExecutionStatus = 'Running'`);
  return clauses.join(' AND ');
}

function rowOf(info: WorkflowExecutionInfo): RunRow {
  const get = (key: (typeof searchAttributes)[keyof typeof searchAttributes]) =>
    info.typedSearchAttributes.get(key);
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    phase: get(searchAttributes.phase),
    target: {
      kind: get(searchAttributes.targetKind),
      namespace: get(searchAttributes.namespace),
      name: get(searchAttributes.targetName),
    },
    policy: get(searchAttributes.policy),
    action: get(searchAttributes.action),
    cluster: get(searchAttributes.cluster),
    startTime: isoTime(info.startTime),
    closeTime: info.closeTime ? isoTime(info.closeTime) : undefined,
    status: info.status.name,
  };
}

interface PolicyRow {
  kind: string;
  namespace?: string;
  name: string;
  target: unknown;
  actions: string[];
  dryRun: boolean;
  lastOutcome?: { outcome: string; reason: string; finishedAt: string; workflowId: string; target: string };
}

async function listPolicies(context: Context, namespace: string | undefined): Promise<void> {
  const kubeconfig = await context.kubeconfig();
  const { CustomObjectsApi } = await import('@kubernetes/client-node');
  const api = kubeconfig.makeApiClient(CustomObjectsApi);
  type Listed = {
    items: {
      kind: string;
      metadata: { namespace?: string; name: string };
      spec?: { target?: unknown; actions?: { type: string }[]; dryRun?: boolean };
      status?: { lastOutcome?: PolicyRow['lastOutcome'] };
    }[];
  };
  let items: Listed['items'];
  try {
    const namespaced = (await (namespace
      ? api.listNamespacedCustomObject({
          group,
          version,
          plural: policyKinds.RemediationPolicy.plural,
          namespace,
        })
      : api.listClusterCustomObject({
          group,
          version,
          plural: policyKinds.RemediationPolicy.plural,
        }))) as Listed;
    const clusterWide = namespace
      ? { items: [] }
      : ((await api.listClusterCustomObject({
          group,
          version,
          plural: policyKinds.ClusterRemediationPolicy.plural,
        })) as Listed);
    items = [...namespaced.items, ...clusterWide.items];
  } catch (error) {
    throw kubeUnreachable(kubeconfig, error);
  }
  const rows: PolicyRow[] = items.map((item) => ({
    kind: item.kind,
    namespace: item.metadata.namespace,
    name: item.metadata.name,
    target: item.spec?.target,
    actions: (item.spec?.actions ?? []).map((a) => a.type),
    dryRun: item.spec?.dryRun === true,
    lastOutcome: item.status?.lastOutcome,
  }));
  context.out.result(rows, () =>
    context.out.line(
      rows.length === 0
        ? 'no policies'
        : columns(
            context.out,
            rows,
            [
              ['POLICY', (r) => [r.namespace, r.name].filter(Boolean).join('/')],
              ['KIND', (r) => r.kind],
              ['ACTIONS', (r) => r.actions.join(' → ') + (r.dryRun ? ' (dry run)' : '')],
              ['LAST OUTCOME', (r) => r.lastOutcome?.outcome ?? ''],
              ['LAST RUN', (r) => r.lastOutcome?.workflowId ?? ''],
            ],
            [
              ['LAST TARGET', (r) => r.lastOutcome?.target ?? ''],
              ['FINISHED', (r) => r.lastOutcome?.finishedAt ?? ''],
              ['REASON', (r) => r.lastOutcome?.reason ?? ''],
            ],
          ),
    ),
  );
}

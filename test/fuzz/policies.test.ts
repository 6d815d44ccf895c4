/**
 * The policy fuzz suite (issue 9): generated hostile policies of both kinds (hostile-policies.ts)
 * sent to the real API server, with the real policy watcher running. Each must end one of three
 * ways, with its reason where a person would look:
 *
 * - refused by the API server, with a message (schema, CEL, metadata validation);
 * - admitted, and marked Invalid by the watcher, with the reason in its status;
 * - valid, and evaluated: the watcher's Ready condition for its generation says how.
 *
 * Anything else (no status within the wait, an empty message, a watcher that stops evaluating)
 * is a bug. A valid policy created half-way through must still start a run, and so must one
 * created after them all. No worker serves this file's task queue, so a run that starts (the
 * sentinels', or a fuzzed policy's that happened to fire) acts on nothing; the file terminates
 * them at the end.
 *
 * KUBEMEDIC_FUZZ_SEED replays a run (the seed is printed); KUBEMEDIC_FUZZ_COUNT sets how many
 * policies (`npm run fuzz` runs the full count).
 */
import { CustomObjectsApi } from '@kubernetes/client-node';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { group, type PolicyKind, policyKinds, type PolicyStatus, version } from '../../api/policy.ts';
import { remediationWorkflowId, type TargetRef } from '../../domain/run.ts';
import { searchAttributes } from '../../domain/search-attributes.ts';
import {
  createPolicy,
  createUncheckedPolicy,
  type KubeMedic,
  type PolicyMetadata,
  readPolicy,
  useKubeMedic,
} from '../support/kubemedic.ts';
import { conditions, deploymentPolicy, scale } from '../support/policy-builder.ts';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';
import { createDeployment } from '../support/workloads.ts';
import type { PolicyWatcher } from '../../policy-watcher/index.ts';
import { type FuzzedPolicy, hostilePolicy } from './hostile-policies.ts';

const seed = Number(process.env.KUBEMEDIC_FUZZ_SEED ?? Date.now() % 2 ** 31);
const count = Number(process.env.KUBEMEDIC_FUZZ_COUNT ?? 500);
/** Policies in flight at once: enough to keep the API server busy, few enough for a shared 2-core machine. */
const concurrency = 8;
/** How long an admitted policy may wait for the watcher's verdict (the machine is shared and slow). */
const verdictWaitMs = 120_000;

const namespace = useTestNamespace('kmt-fuzz');
const medic: KubeMedic = useKubeMedic({ inProcessWorker: false });
const evaluationFailures: string[] = [];
let watcher: PolicyWatcher | undefined;

type Outcome =
  | { kind: 'refused-by-api'; code: number; message: string }
  | { kind: 'invalid-in-status'; message: string }
  | { kind: 'valid'; reason: string; message: string }
  | { kind: 'bug'; what: string };

/** What the API server said when it refused: its Status message, and the code. */
function refusal(error: unknown): { code: number; message: string } | undefined {
  const { code, body } = error as { code?: number; body?: unknown };
  if (typeof code !== 'number' || code < 400 || code >= 500) return undefined;
  let message: string;
  try {
    message = (JSON.parse(String(body)) as { message?: string }).message ?? '';
  } catch {
    message = String(body ?? '');
  }
  return { code, message };
}

const readyOf = (status: PolicyStatus | undefined, generation: number) =>
  status?.conditions?.find((c) => c.type === 'Ready' && c.observedGeneration === generation);

/** Sends one policy and waits for its fate; deletes it once judged, so at most `concurrency` live at once. */
async function judge(policy: FuzzedPolicy, index: number): Promise<Outcome> {
  const name = policy.name === undefined ? `fz-${medic.cluster}-${index}` : `${policy.name}-${index}`;
  const metadata: PolicyMetadata =
    policy.kind === 'RemediationPolicy' ? { name, namespace: namespace.name } : { name };
  try {
    await createUncheckedPolicy(policy.kind, metadata, policy.spec);
  } catch (error) {
    const refused = refusal(error);
    if (!refused) return { kind: 'bug', what: `the create failed without an answer: ${String(error)}` };
    if (refused.message.trim() === '')
      return { kind: 'bug', what: `refused ${refused.code} without a message` };
    return { kind: 'refused-by-api', ...refused };
  }
  try {
    const stored = await readPolicy(policy.kind, metadata);
    const ready = await eventually(
      `the watcher's verdict on ${policy.kind} ${name}`,
      async () =>
        readyOf((await readPolicy(policy.kind, metadata)).status as PolicyStatus, stored.metadata.generation),
      verdictWaitMs,
    ).catch(() => undefined);
    if (!ready)
      return { kind: 'bug', what: `admitted, but no Ready condition within ${verdictWaitMs / 1000}s` };
    if (ready.message.trim() === '') return { kind: 'bug', what: `Ready ${ready.reason} without a message` };
    if (ready.reason !== 'Invalid') return { kind: 'valid', reason: ready.reason, message: ready.message };
    const invalid = ((await readPolicy(policy.kind, metadata)).status as PolicyStatus).conditions?.find(
      (c) => c.type === 'Invalid' && c.status === 'True',
    );
    if (!invalid?.message)
      return { kind: 'bug', what: 'Ready says Invalid, but no Invalid condition says why' };
    return { kind: 'invalid-in-status', message: invalid.message };
  } finally {
    await deletePolicy(policy.kind, metadata);
  }
}

async function deletePolicy(kind: PolicyKind, { name, namespace: ns }: PolicyMetadata): Promise<void> {
  const api = kubeconfig().makeApiClient(CustomObjectsApi);
  const { plural } = policyKinds[kind];
  await (
    ns
      ? api.deleteNamespacedCustomObject({ group, version, plural, namespace: ns, name })
      : api.deleteClusterCustomObject({ group, version, plural, name })
  ).catch(() => undefined);
}

/** Runs `work` over `items`, `limit` at a time, in order of index. */
async function pool<T, R>(
  items: T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return results;
}

/** A valid policy on the always-unavailable sentinel Deployment: its condition holds at once. */
async function sentinel(name: string): Promise<string> {
  await createPolicy(
    'RemediationPolicy',
    { name, namespace: namespace.name },
    {
      ...deploymentPolicy('sentinel', {
        conditions: [conditions.deploymentUnavailable('down', 0)],
        actions: [scale({ replicas: 2 })],
      }),
      evaluationInterval: '1s',
    },
  );
  const target: TargetRef = { kind: 'Deployment', namespace: namespace.name, name: 'sentinel' };
  return remediationWorkflowId(medic.cluster, target, {
    kind: 'RemediationPolicy',
    namespace: namespace.name,
    name,
  });
}

const runStarted = (workflowId: string) =>
  eventually(
    `the run ${workflowId}`,
    () =>
      medic.client.workflow
        .getHandle(workflowId)
        .describe()
        .then((d) => d.runId),
    verdictWaitMs,
  );

describe(`policy fuzz: ${count} hostile policies, seed ${seed}`, () => {
  before(async () => {
    watcher = await medic.startWatcher({
      log: (message, fields) => {
        if (message === 'evaluation failed') evaluationFailures.push(JSON.stringify(fields));
      },
    });
    await createDeployment(namespace.name, 'sentinel', 1);
  });

  // Whatever a fuzzed policy or a sentinel started waits on a task queue no worker serves.
  after(async () => {
    const query = `${searchAttributes.cluster.name} = "${medic.cluster}" AND ExecutionStatus = "Running"`;
    for await (const run of medic.client.workflow.list({ query })) {
      await medic.client.workflow
        .getHandle(run.workflowId)
        .terminate('fuzz suite done')
        .catch(() => undefined);
    }
  });

  it(
    'refuses each one with a message or marks it in status, never crashes, and still fires',
    { timeout: 1_800_000 },
    async (t) => {
      t.diagnostic(`fuzz seed ${seed} (KUBEMEDIC_FUZZ_SEED=${seed} replays it), ${count} policies`);
      const policies = fc.sample(hostilePolicy(namespace.name), { seed, numRuns: count });
      const startedAt = Date.now();
      let amongId: string | undefined;
      const outcomes = await pool(policies, concurrency, async (policy, index) => {
        if (index === Math.floor(count / 2)) amongId = await sentinel('sentinel-among');
        return judge(policy, index);
      });
      const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);

      const tally = (kind: Outcome['kind']) => outcomes.filter((o) => o.kind === kind).length;
      const reasons = new Map<string, number>();
      for (const o of outcomes)
        if (o.kind === 'valid') reasons.set(o.reason, (reasons.get(o.reason) ?? 0) + 1);
      const codes = new Map<number, number>();
      for (const o of outcomes)
        if (o.kind === 'refused-by-api') codes.set(o.code, (codes.get(o.code) ?? 0) + 1);
      console.log(
        `# fuzz: refused-by-api ${tally('refused-by-api')}, invalid-in-status ${tally('invalid-in-status')}, ` +
          `valid ${tally('valid')}, bugs ${tally('bug')} (seed ${seed}, ${count} policies in ${seconds}s)`,
      );
      console.log(
        `# fuzz: refusal codes ${JSON.stringify(Object.fromEntries(codes))}; valid by Ready reason ${JSON.stringify(Object.fromEntries(reasons))}`,
      );

      // A few of the reasons people would read, so a run shows what the boundaries said.
      for (const kind of ['refused-by-api', 'invalid-in-status'] as const) {
        const seen = new Set(outcomes.flatMap((o) => (o.kind === kind ? [o.message.slice(0, 160)] : [])));
        for (const message of [...seen].slice(0, 3)) t.diagnostic(`${kind}: ${message}`);
      }
      const bugs = outcomes.flatMap((o, i) =>
        o.kind === 'bug'
          ? [`#${i} ${o.what}: ${policies[i]!.kind} ${JSON.stringify(policies[i]!.mutations)}`]
          : [],
      );
      assert.deepEqual(bugs, [], `policies neither refused nor marked (seed ${seed})`);
      assert.deepEqual(evaluationFailures, [], 'evaluations that failed outside any status');
      // Each outcome is reachable with these generators: a suite that only ever saw refusals
      // would not be testing the watcher.
      assert.ok(
        tally('refused-by-api') > 0 && tally('invalid-in-status') > 0 && tally('valid') > 0,
        'every outcome seen',
      );

      // The watcher is alive and still evaluating: the sentinel among the fuzz fired, and so does one created now.
      assert.ok(watcher?.healthy, 'the watcher is still healthy (every informer listing and watching)');
      assert.ok(amongId, 'the sentinel among them was created');
      await runStarted(amongId);
      await runStarted(await sentinel('sentinel-after'));
    },
  );
});

/**
 * Every run ends with an outcome, whatever stops it: the real remediation workflow on the real
 * Temporal dev server, with scripted activities standing in for Kubernetes so that each failure
 * path can be forced exactly (the e2e tests show the same on the real cluster). The governors
 * are the real governor workflows.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RemediationActivities } from '../../activities/index.ts';
import { createGovernorActivities, type PermitsInput } from '../../activities/governors.ts';
import { remediationPolicySpec, type PolicySpec } from '../../api/policy.ts';
import { type Backup, type ExecuteResult, stepFailedType } from '../../domain/actions.ts';
import {
  type GovernorStatus,
  governorStatusQuery,
  permitSignal,
  policyGovernorId,
} from '../../domain/governor.ts';
import { cancelSignal, statusQuery } from '../../domain/messages.ts';
import {
  type PolicyRef,
  policyLabel,
  type RemediationInput,
  type RemediationWorkflow,
} from '../../domain/run.ts';
import { environment } from '../../devstack/stack.ts';
import { kubemedic } from '../support/cli.ts';
import { ensureStack, eventually } from '../support/stack.ts';

/** The production workflows, by path as the worker loads them. */
const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

type Script = Partial<Record<keyof RemediationActivities, (input: never) => Promise<unknown>>>;

/** What the scripted activities saw, by activity name. */
type Calls = Record<string, unknown[]>;

const backup: Backup = {
  target: { kind: 'Deployment', namespace: 'shop', name: 'web' },
  action: 'Scale',
  object: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' },
  resourceVersion: '1',
  fields: { '/spec/replicas': 2 },
  hash: 'f'.repeat(64),
  capturedAt: '2026-11-30T00:00:00Z',
};
const executed: ExecuteResult = {
  written: { '/spec/replicas': 4 },
  changes: [{ path: '/spec/replicas', before: 2, after: 4 }],
  summary: 'scaled web from 2 to 4',
};

/** Activities that act as a healthy cluster would, unless the script says otherwise. */
function scriptedActivities(
  client: Client,
  cluster: string,
  calls: Calls,
  script: Script,
): RemediationActivities {
  const record =
    <T>(name: string, result: (input: never) => Promise<T>) =>
    async (input: never) => {
      (calls[name] ??= []).push(input);
      const scripted = script[name as keyof RemediationActivities];
      return (scripted ? scripted(input) : result(input)) as Promise<T>;
    };
  const nothing = async () => undefined;
  const askGovernors = createGovernorActivities({}).requestPermits;
  const startGovernor = async (policy: PolicyRef) => {
    const governor = { id: policyGovernorId(cluster, policyLabel(policy)), limits: { maxConcurrent: 1 } };
    await client.workflow.start('governor', {
      workflowId: governor.id,
      taskQueue: cluster,
      // Leases checked every second, so a closed run's grant is found quickly.
      args: [undefined, 500, { leaseCheckMs: 1_000 }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return governor;
  };
  return {
    // The real governor workflow, started here with quick lease checks (the real activities start
    // it with the defaults); the runs ask it through the real requestPermits.
    ensureGovernors: record('ensureGovernors', async (input: { policy: PolicyRef }) => [
      await startGovernor(input.policy),
    ]),
    requestPermits: record('requestPermits', async (input: PermitsInput) => {
      const governor = await startGovernor(input.scope.policy);
      return askGovernors({ ...input, governors: input.governors ?? [governor] });
    }),
    // The policy is the one on the API server (a run's first step).
    checkPolicy: record('checkPolicy', nothing),
    backupTarget: record('backupTarget', async () => backup),
    executeAction: record('executeAction', async () => executed),
    rollbackAction: record('rollbackAction', async () => ({
      outcome: 'RolledBack',
      reason: 'restored /spec/replicas',
      restored: backup.fields,
      conflicts: [],
    })),
    revertPartly: record('revertPartly', nothing),
    verifyTarget: record('verifyTarget', async () => ({
      healthy: true,
      reason: 'load is 0.1',
      readings: [],
    })),
    recordPhase: record('recordPhase', nothing),
    recordOutcome: record('recordOutcome', nothing),
    notify: record('notify', nothing),
    // No default sinks: every run asks once, as its first notification goes out.
    notificationDefaults: record('notificationDefaults', async () => []),
    recordNotificationFailed: record('recordNotificationFailed', nothing),
  } as unknown as RemediationActivities;
}

const spec = (overrides: Record<string, unknown> = {}): PolicySpec =>
  remediationPolicySpec.parse({
    target: { kind: 'Deployment', name: 'web' },
    conditions: [
      { name: 'load', source: 'Prometheus', prometheus: { query: 'up' }, operator: '>', threshold: 1 },
    ],
    actions: [{ type: 'Scale', scale: { factor: 2 } }],
    verification: { settle: '0s' },
    cooldown: '1s',
    ...overrides,
  });

describe('how a run ends', () => {
  let connection: Connection;
  let client: Client;
  before(async () => {
    await ensureStack();
    connection = await Connection.connect({ address: environment().TEMPORAL_ADDRESS });
    client = new Client({ connection, namespace: environment().TEMPORAL_NAMESPACE });
  });
  after(async () => connection?.close());

  /** Given scripted activities, when one run of `policySpec` runs, then `check` sees its end. */
  async function runWith(
    script: Script,
    policySpec: PolicySpec,
    during: (
      handle: WorkflowHandle<RemediationWorkflow>,
      calls: Calls,
      cluster: string,
      input: RemediationInput,
    ) => Promise<void>,
  ) {
    const cluster = `endings-${randomUUID().slice(0, 8)}`;
    const calls: Calls = {};
    const workerConnection = await NativeConnection.connect({ address: environment().TEMPORAL_ADDRESS });
    try {
      const worker = await Worker.create({
        connection: workerConnection,
        namespace: environment().TEMPORAL_NAMESPACE,
        taskQueue: cluster,
        workflowsPath,
        activities: scriptedActivities(client, cluster, calls, script),
      });
      await worker.runUntil(async () => {
        const input: RemediationInput = {
          cluster,
          policy: { kind: 'RemediationPolicy', namespace: 'shop', name: 'p', uid: 'u', generation: 1 },
          spec: policySpec,
          target: { kind: 'Deployment', namespace: 'shop', name: 'web' },
          trigger: { observedAt: '2026-11-30T00:00:00Z', readings: [] },
        };
        const handle = await client.workflow.start<RemediationWorkflow>('remediation', {
          taskQueue: cluster,
          workflowId: `remediation/${cluster}/web`,
          args: [input],
        });
        await during(handle, calls, cluster, input);
      });
    } finally {
      await workerConnection.close();
    }
  }

  const governorStatus = (cluster: string) =>
    client.workflow.getHandle(policyGovernorId(cluster, 'shop/p')).query<GovernorStatus>(governorStatusQuery);

  /** The exit's guarantees: the outcome recorded once, no permit left held. */
  async function assertExited(calls: Calls, cluster: string, outcome: string) {
    const recorded = calls.recordOutcome as { outcome: string; reason: string }[];
    assert.equal(recorded?.length, 1, 'the outcome is recorded once');
    assert.equal(recorded[0]?.outcome, outcome);
    const governor = await eventually('the permit to be released', async () => {
      const status = await governorStatus(cluster);
      return status.active.length === 0 && status.queued === 0 ? status : undefined;
    });
    assert.deepEqual(governor.active, []);
    return recorded[0]!;
  }

  it(
    'ends Failed, naming the phase and the cause, when a step fails for good (our bug, retries exhausted)',
    { timeout: 120_000 },
    async () => {
      await runWith(
        {
          backupTarget: async () => {
            throw ApplicationFailure.nonRetryable('cannot read properties of undefined', 'TypeError');
          },
        },
        spec(),
        async (handle, calls, cluster) => {
          const result = await handle.result();
          assert.equal(result.outcome, 'Failed');
          assert.equal(
            result.reason,
            'BackingUp failed: backupTarget: cannot read properties of undefined; nothing had been changed',
          );
          await assertExited(calls, cluster, 'Failed');
        },
      );
    },
  );

  it(
    'takes a Prometheus outage during verify as no data: Inconclusive rolls back and ends Failed, without escalating',
    { timeout: 120_000 },
    async () => {
      await runWith(
        {
          verifyTarget: async () => {
            throw ApplicationFailure.nonRetryable('connect ECONNREFUSED 127.0.0.1:9090', 'Error');
          },
        },
        spec({
          actions: [{ type: 'Scale', scale: { factor: 2 } }, { type: 'RolloutRestart' }],
          verification: { settle: '0s', onNoData: 'Inconclusive' },
        }),
        async (handle, calls, cluster) => {
          const result = await handle.result();
          assert.equal(result.outcome, 'Failed');
          assert.match(
            result.reason,
            /^verification inconclusive: the reading could not be taken \(verifyTarget: connect ECONNREFUSED 127\.0\.0\.1:9090\); onNoData is Inconclusive; rollback: RolledBack/,
          );
          assert.equal(result.steps.length, 1, 'no escalation on missing data');
          assert.equal(calls.rollbackAction?.length, 1);
          await assertExited(calls, cluster, 'Failed');
        },
      );
    },
  );

  it('takes readings over a window and passes within the failure limit', { timeout: 120_000 }, async () => {
    let reading = 0;
    await runWith(
      {
        verifyTarget: async () => {
          reading += 1;
          return reading === 2
            ? { healthy: false, reason: 'load is 0.9', readings: [] }
            : { healthy: true, reason: 'load is 0.1', readings: [] };
        },
      },
      spec({ verification: { settle: '0s', readings: 3, interval: '1s', failureLimit: 1 } }),
      async (handle, calls, cluster) => {
        const result = await handle.result();
        assert.equal(result.outcome, 'Succeeded', result.reason);
        assert.match(result.reason, /verified: 1 of 3 readings unhealthy \(failureLimit 1\)/);
        assert.equal(calls.verifyTarget?.length, 3);
        await assertExited(calls, cluster, 'Succeeded');
      },
    );
  });

  /** The first rung's execute does `first`; every later rung acts at once. */
  const firstRungThen = (first: () => Promise<ExecuteResult>): Script => {
    let executes = 0;
    return { executeAction: async () => ((executes += 1) === 1 ? first() : executed) };
  };
  const twoRungs = (first: Record<string, unknown> = {}) =>
    spec({ actions: [{ type: 'Scale', scale: { factor: 2 }, ...first }, { type: 'RolloutRestart' }] });

  /** The first rung failed with `failure`, and the second one did the job. */
  async function assertSecondRungHelped(
    handle: WorkflowHandle<RemediationWorkflow>,
    calls: Calls,
    cluster: string,
    failure: RegExp,
  ) {
    const result = await handle.result();
    assert.equal(result.outcome, 'Succeeded', result.reason);
    assert.match(result.steps[0]?.failure ?? '', failure);
    assert.equal(result.steps[1]?.action, 'RolloutRestart');
    await assertExited(calls, cluster, 'Succeeded');
    return result;
  }

  it(
    'treats a failed execute as a failed step: rolled back, then the next rung is tried',
    { timeout: 120_000 },
    async () => {
      const jobFailed = async (): Promise<ExecuteResult> => {
        throw ApplicationFailure.create({
          message: 'Job shop/fix failed: BackoffLimitExceeded',
          type: stepFailedType,
          nonRetryable: true,
          details: [executed],
        });
      };
      await runWith(firstRungThen(jobFailed), twoRungs(), async (handle, calls, cluster) => {
        const result = await assertSecondRungHelped(
          handle,
          calls,
          cluster,
          /Job shop\/fix failed: BackoffLimitExceeded/,
        );
        assert.equal(
          result.steps[0]?.rollback?.outcome,
          'RolledBack',
          'what the failed step wrote was undone',
        );
      });
    },
  );

  it(
    'gives each rung its own timeout: past it the step has failed and the next rung runs',
    { timeout: 120_000 },
    async () => {
      // The first rung hangs past its 2 s timeout.
      const hangs = () =>
        new Promise<ExecuteResult>((resolve) => setTimeout(() => resolve(executed), 15_000));
      await runWith(firstRungThen(hangs), twoRungs({ timeout: '2s' }), (handle, calls, cluster) =>
        assertSecondRungHelped(handle, calls, cluster, /executeAction/).then(() => undefined),
      );
    },
  );

  it(
    'ends Failed and says so when a failed execute did not say what it changed',
    { timeout: 120_000 },
    async () => {
      await runWith(
        {
          executeAction: async () => {
            throw ApplicationFailure.nonRetryable('webhook answered 502', 'WebhookError');
          },
        },
        spec(),
        async (handle, calls, cluster) => {
          const result = await handle.result();
          assert.equal(result.outcome, 'Failed');
          assert.match(result.reason, /Scale did not say what it had changed, so it was not rolled back/);
          await assertExited(calls, cluster, 'Failed');
        },
      );
    },
  );

  it(
    'keeps recording the outcome through failed attempts (an API server outage)',
    { timeout: 120_000 },
    async () => {
      let attempts = 0;
      await runWith(
        {
          recordOutcome: async () => {
            attempts += 1;
            if (attempts < 3) throw new Error('the API server is unreachable');
          },
        },
        spec(),
        async (handle) => {
          const result = await handle.result();
          assert.equal(result.outcome, 'Succeeded');
          assert.equal(attempts, 3, 'recording was retried until it went through');
        },
      );
    },
  );

  it(
    'withdraws a request queued at a governor when cancelled, so no grant is left held',
    { timeout: 120_000 },
    async () => {
      // Both runs wait an hour to verify and cool down an hour, so they stay open throughout.
      const slow = spec({ verification: { settle: '1h' }, cooldown: '1h' });
      await runWith({}, slow, async (handle, _calls, cluster) => {
        // Given another run holds the policy's only permit (maxConcurrent 1) and this one queues
        const other = await client.workflow.start<RemediationWorkflow>('remediation', {
          taskQueue: cluster,
          workflowId: `remediation/${cluster}/other`,
          args: [
            {
              cluster,
              policy: { kind: 'RemediationPolicy', namespace: 'shop', name: 'p', uid: 'u', generation: 1 },
              spec: slow,
              target: { kind: 'Deployment', namespace: 'shop', name: 'other' },
              trigger: { observedAt: '2026-11-30T00:00:00Z', readings: [] },
            },
          ],
        });
        await eventually('one run to hold the permit and one to queue', async () => {
          const status = await governorStatus(cluster);
          return status.active.length === 1 && status.queued === 1 ? true : undefined;
        });
        const holder = (await governorStatus(cluster)).active[0]!;
        const [holding, waiting] = holder === other.workflowId ? [other, handle] : [handle, other];
        const outcomeOf = (run: WorkflowHandle<RemediationWorkflow>) =>
          eventually(`${run.workflowId} to end`, async () => (await run.query(statusQuery)).outcome);
        // When the queued run is cancelled, and then the holder too
        await waiting.signal(cancelSignal, { by: 'test', reason: 'no longer needed' });
        assert.equal(await outcomeOf(waiting), 'Cancelled');
        await holding.signal(cancelSignal, { by: 'test' });
        assert.equal(await outcomeOf(holding), 'Cancelled');
        // Then the governor holds nothing and queues nothing, though the cancelled run is still
        // open (cooling down) and would have taken a late grant
        const status = await eventually(
          'the governor to settle',
          async () => {
            const s = await governorStatus(cluster);
            return s.active.length === 0 && s.queued === 0 ? s : undefined;
          },
          15_000,
        );
        assert.deepEqual(status.active, []);
        await Promise.all([holding, waiting].map((run) => run.terminate('test done')));
      });
    },
  );

  it(
    'frees the grant of a run terminated while it held it: a grant belongs to an open run',
    { timeout: 120_000 },
    async () => {
      await runWith({}, spec({ verification: { settle: '1h' } }), async (handle, _calls, cluster) => {
        // Given a run that holds the policy's permit while it waits to verify
        await eventually('the run to hold the permit', async () =>
          (await governorStatus(cluster)).active.includes(handle.workflowId) ? true : undefined,
        );
        // When it is terminated, so its own release never runs
        await handle.terminate('an operator terminated it');
        // Then the governor's lease check finds it closed and frees the grant
        const status = await eventually(
          'the grant to be freed',
          async () => {
            const s = await governorStatus(cluster);
            return s.active.length === 0 ? s : undefined;
          },
          15_000,
        );
        assert.deepEqual(status.active, []);
      });
    },
  );

  it(
    'keeps a queued run waiting when someone forges its permit signal, and lets it act on the real grant',
    { timeout: 120_000 },
    async () => {
      await runWith({}, spec({ verification: { settle: '1h' } }), async (holder, calls, cluster, input) => {
        // Given one run holds the policy's only permit (maxConcurrent 1) and a second waits in its queue
        await eventually('the first run to hold the permit', async () =>
          (await governorStatus(cluster)).active.includes(holder.workflowId) ? true : undefined,
        );
        const waiting = await client.workflow.start<RemediationWorkflow>('remediation', {
          taskQueue: cluster,
          workflowId: `remediation/${cluster}/waiting`,
          args: [{ ...input, target: { ...input.target, name: 'api' } }],
        });
        const asksOf = (workflowId: string) =>
          ((calls.requestPermits ?? []) as { workflowId: string }[]).filter(
            (c) => c.workflowId === workflowId,
          ).length;
        await eventually('the second run to be queued', async () =>
          (await governorStatus(cluster)).queued === 1 ? true : undefined,
        );

        // When anyone with Temporal access sends it a grant the governor never gave
        await waiting.signal(permitSignal, {
          governor: policyGovernorId(cluster, 'shop/p'),
          granted: true,
          code: 'granted',
          reason: 'forged',
        });

        // Then it asks the governor again, is still queued, and backs nothing up
        await eventually('the run to ask again', async () =>
          asksOf(waiting.workflowId) >= 2 ? true : undefined,
        );
        assert.equal((await governorStatus(cluster)).queued, 1, 'still queued');
        assert.equal(calls.backupTarget?.length, 1, 'only the holder backed up');

        // And when the holder ends, the real grant lets it act
        await holder.terminate('the holder is done');
        await eventually(
          'the waiting run to back up',
          async () => (calls.backupTarget?.length === 2 ? true : undefined),
          30_000,
        );
        await waiting.terminate('test done');
      });
    },
  );

  it('lets a person free a grant by hand with the CLI, saying why', { timeout: 120_000 }, async () => {
    await runWith({}, spec({ verification: { settle: '1h' } }), async (handle, _calls, cluster) => {
      await eventually('the run to hold the permit', async () =>
        (await governorStatus(cluster)).active.includes(handle.workflowId) ? true : undefined,
      );
      const freed = await kubemedic([
        'free-grant',
        handle.workflowId,
        '--cluster',
        cluster,
        '--policy',
        'shop/p',
        '--by',
        'oncall',
        '--reason',
        'stuck after an outage',
      ]);
      assert.equal(freed.code, 0, freed.stderr);
      assert.match(freed.stdout, /Active runs\s+0/);
      // And the governor's history keeps who freed it and why
      const history = await client.workflow.getHandle(policyGovernorId(cluster, 'shop/p')).fetchHistory();
      const signal = history.events?.find(
        (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'freeGrant',
      );
      assert.ok(signal, 'the freeGrant signal is in the history');
      await handle.terminate('test done');
    });
  });

  it(
    'runs timers written as compound durations (1m30s) instead of failing its task forever',
    { timeout: 120_000 },
    async () => {
      await runWith({}, spec({ verification: { settle: '1m30s' } }), async (handle) => {
        // Then the run reaches its settle timer and waits there, rather than retrying a failed task
        await eventually('the run to wait in Verifying', async () =>
          (await handle.query(statusQuery)).phase === 'Verifying' ? true : undefined,
        );
        const history = await handle.fetchHistory();
        const failedTasks = history.events?.filter((e) => e.workflowTaskFailedEventAttributes) ?? [];
        assert.deepEqual(failedTasks, [], 'no workflow task failed');
        const timers = history.events?.filter((e) => e.timerStartedEventAttributes) ?? [];
        assert.equal(Number(timers.at(-1)?.timerStartedEventAttributes?.startToFireTimeout?.seconds), 90);
        await handle.terminate('test done');
      });
    },
  );
});

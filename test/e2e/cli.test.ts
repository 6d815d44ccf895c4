/**
 * The `kubemedic` CLI as a person or a script uses it: a child process against the real
 * Temporal, API server and this file's worker, checked by its output and exit code.
 */
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { RunEvent } from '../../cli/history.ts';
import type { ActivityName } from '../../cli/run-events.ts';
import type { RunRow } from '../../cli/commands/list.ts';
import { approveUpdate } from '../../domain/messages.ts';
import { unauthenticatedUpdate } from '../../domain/run.ts';
import { type CliResult, jsonOf, kubemedic, kubemedicRunning } from '../support/cli.ts';
import { deploymentUnavailable, useKubeMedic } from '../support/kubemedic.ts';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';
import { givenScalePolicy, inPhase } from '../support/scale-runs.ts';
import { readDeployment } from '../support/workloads.ts';

const namespace = useTestNamespace('kmc');
const medic = useKubeMedic();

/** The CLI on this file's cluster. */
const cli = (...args: string[]) => kubemedic([...args, '--cluster', medic.cluster]);

const expectExit = (result: CliResult, code: number) =>
  assert.equal(result.code, code, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);

const startRun = async (name: string, spec: Record<string, unknown> = {}) =>
  (await givenScalePolicy(medic, namespace.name, name, spec)).start();
const replicasOf = async (name: string) => (await readDeployment(namespace.name, name)).spec?.replicas;
const awaitingApproval = { approval: { required: true, timeout: '10m', onTimeout: 'Reject' } };

describe('kubemedic CLI: reading runs', () => {
  it(
    'lists, shows, explains, prints the history of and restores a Succeeded run',
    { timeout: 300_000 },
    async () => {
      // Given a run that scaled a Deployment from 2 to 3 and succeeded
      const handle = await startRun('finished');
      assert.equal((await handle.result()).outcome, 'Succeeded');
      const id = handle.workflowId;
      const policy = `${namespace.name}/finished`;

      // When runs are listed by policy, then the table and the JSON both name it, Succeeded
      const rows = await eventually('the run in the list', async () => {
        const listed = jsonOf<RunRow[]>(await cli('list', '--policy', policy, '--json'));
        return listed.find((r) => r.workflowId === id && r.phase === 'Succeeded') ? listed : undefined;
      });
      assert.deepEqual(rows[0]?.target, { kind: 'Deployment', namespace: namespace.name, name: 'finished' });
      assert.equal(rows[0]?.action, 'Scale');
      const table = await cli('list', '--policy', policy);
      expectExit(table, 0);
      assert.match(table.stdout, /^ID\s+PHASE\s+TARGET\s+POLICY\s+ACTION\s+STARTED\s+STATUS/);
      assert.match(table.stdout, new RegExp(`${id}\\s+Succeeded\\s+Deployment ${namespace.name}/finished`));

      // And -o wide adds when it ended and its run ID, as kubectl's wide output adds columns
      const wide = await cli('list', '--policy', policy, '-o', 'wide');
      expectExit(wide, 0);
      assert.match(
        wide.stdout,
        /^ID\s+PHASE\s+TARGET\s+POLICY\s+ACTION\s+STARTED\s+STATUS\s+ENDED\s+RUN ID$/m,
      );
      assert.match(wide.stdout, new RegExp(`${id}\\s+Succeeded .*\\s+${rows[0]?.runId}$`, 'm'));

      // When it is shown, then phase, backup, what was executed and the outcome are there
      const shown = await cli('show', id);
      expectExit(shown, 0);
      assert.match(shown.stdout, /Phase\s+Succeeded/);
      assert.match(shown.stdout, /backup\s+Deployment .*\/spec\/replicas=2 \(sha256 [0-9a-f]{12}/);
      assert.match(shown.stdout, /executed scaled Deployment .* from 2 to 3 replicas/);

      // And -o yaml holds the same value as -o json
      const asJson = await cli('show', id, '-o', 'json');
      const asYaml = await cli('show', id, '-o', 'yaml');
      expectExit(asYaml, 0);
      assert.deepEqual(parseYaml(asYaml.stdout), jsonOf(asJson));

      // When it is explained, then the timeline tells the permit, backup hash, action, verification and cooldown
      const explained = await cli('explain', id);
      expectExit(explained, 0);
      for (const line of [
        /permit granted by governor\/.*\/cluster/,
        /backed up Deployment .*: \/spec\/replicas=2 \(sha256 [0-9a-f]{64}\)/,
        /execute\s+scaled Deployment .* \[\/spec\/replicas 2 → 3\]/,
        /verify\s+healthy: /,
        /cooldown\s+cooling down for 1s/,
        /Outcome\s+Succeeded/,
      ]) {
        assert.match(explained.stdout, line);
      }

      // When its history is asked for as JSON, then it holds the backup as a decoded value
      const history = jsonOf<{ events: RunEvent[] }>(await cli('history', id, '--json'));
      const backup = history.events.find(
        (e) => e.type === 'ActivityTaskCompleted' && e.name === ('backupTarget' satisfies ActivityName),
      );
      assert.deepEqual((backup?.data as { fields: unknown }).fields, { '/spec/replicas': 2 });

      // When the backup is restored by hand, then the Deployment has 2 replicas again
      const restored = await cli('restore', id);
      expectExit(restored, 0);
      assert.match(restored.stdout, /RolledBack: restored \/spec\/replicas/);
      assert.equal(await replicasOf('finished'), 2);
      // And a second restore finds nothing to do
      const again = await cli('restore', id);
      expectExit(again, 0);
      assert.match(again.stdout, /NothingToRestore/);
      // And a restore against an API server that is not there says so, with the context to check (5)
      const nowhere = await cli('restore', id, '--kubeconfig', twoContextKubeconfig());
      expectExit(nowhere, 5);
      assert.match(nowhere.stderr, /cannot reach Kubernetes at .* `kubectl --context broken cluster-info`/);
    },
  );

  it(
    'explains a RolledBack run: verification failed, the rollback restored the field',
    { timeout: 300_000 },
    async () => {
      // Given a run whose verification fails (the condition holds whatever happens)
      const handle = await startRun('stays-sick', { conditions: [deploymentUnavailable('always', 0)] });
      assert.equal((await handle.result()).outcome, 'RolledBack');
      // When it is explained, then the failed verification and the rollback are named
      const explained = await cli('explain', handle.workflowId);
      expectExit(explained, 0);
      assert.match(explained.stdout, /verify\s+NOT healthy: conditions still hold/);
      assert.match(explained.stdout, /rollback\s+RolledBack: restored \/spec\/replicas/);
      assert.match(explained.stdout, /Outcome\s+RolledBack/);
      // And a restore by hand has nothing left to do
      const restored = await cli('restore', handle.workflowId);
      expectExit(restored, 0);
      assert.match(restored.stdout, /NothingToRestore/);
    },
  );

  it(
    'shows and restores a run terminated mid-way, through the status query a worker answers by replay',
    { timeout: 300_000 },
    async () => {
      // Given a run that scaled from 2 to 3, terminated while it waits to verify (no rollback ran)
      const handle = await startRun('terminated', { verification: { settle: '10m' } });
      await inPhase(handle, 'Verifying');
      await handle.terminate('by hand, in the test');
      assert.equal(await replicasOf('terminated'), 3);
      // When it is shown, then the status query (answered by replaying it) tells where it stopped
      const shown = await cli('show', handle.workflowId);
      expectExit(shown, 0);
      assert.match(shown.stdout, /Status\s+TERMINATED/);
      assert.match(shown.stdout, /Phase\s+Verifying/);
      assert.match(shown.stdout, /executed scaled Deployment .* from 2 to 3 replicas/);
      // When its backup is restored by hand, then the Deployment has its 2 replicas again
      const restored = await cli('restore', handle.workflowId);
      expectExit(restored, 0);
      assert.match(restored.stdout, /RolledBack: restored \/spec\/replicas/);
      assert.equal(await replicasOf('terminated'), 2);
    },
  );

  it(
    'refuses to restore over a change someone made since (exit 4), and keeps it',
    { timeout: 300_000 },
    async () => {
      // Given a Succeeded run that scaled to 3, and a person who then set 7 replicas
      const handle = await startRun('changed-since');
      assert.equal((await handle.result()).outcome, 'Succeeded');
      await kubeconfig()
        .makeApiClient(AppsV1Api)
        .patchNamespacedDeploymentScale({
          name: 'changed-since',
          namespace: namespace.name,
          body: [{ op: 'replace', path: '/spec/replicas', value: 7 }],
        });
      // When the backup is restored by hand, then the conflict is named and nothing is written
      const restored = await cli('restore', handle.workflowId);
      expectExit(restored, 4);
      assert.match(restored.stderr, /RollbackConflict: .*\/spec\/replicas is 7, not the 3 KubeMedic wrote/);
      assert.equal(await replicasOf('changed-since'), 7);
    },
  );

  it(
    'says a run does not exist (3), a usage error (2), a bad environment (2) and an unreachable Temporal (5)',
    { timeout: 300_000 },
    async () => {
      const missing = await cli('show', `remediation/${medic.cluster}/nowhere/Deployment/none/none`);
      expectExit(missing, 3);
      assert.match(missing.stderr, /no run .* find runs with `kubemedic list`/);
      assert.match(
        missing.stderr,
        new RegExp(`this target's: \`kubemedic list --cluster ${medic.cluster} -n nowhere\``),
      );

      expectExit(await cli('show'), 2);
      const unknownFlag = await cli('list', '--nonsense');
      expectExit(unknownFlag, 2);
      assert.match(unknownFlag.stderr, /kubemedic list --help/);
      expectExit(await cli('frobnicate'), 2);
      // And help names every exit code, and each command has its own
      const help = await cli('help');
      expectExit(help, 0);
      for (const code of [0, 1, 2, 3, 4, 5]) assert.match(help.stdout, new RegExp(`^  ${code}  `, 'm'));
      const approveHelp = await cli('approve', '--help');
      expectExit(approveHelp, 0);
      assert.match(
        approveHelp.stdout,
        /^Usage: kubemedic approve <run> \[--reason TEXT\] .*\[--via-temporal \[--by NAME\]\]/,
      );

      const unreachable = await cli('list', '--address', '127.0.0.1:1');
      expectExit(unreachable, 5);
      assert.match(
        unreachable.stderr,
        /cannot reach Temporal at 127\.0\.0\.1:1: start the local stack with `npm run devstack -- up`/,
      );
      // And a bad environment is a usage error that names the variable and what it allows
      const badEnvironment = await kubemedic(['list'], { KUBEMEDIC_CLUSTER: 'Prod_EU' });
      expectExit(badEnvironment, 2);
      assert.match(badEnvironment.stderr, /KUBEMEDIC_CLUSTER="Prod_EU" is not allowed: lowercase letters/);
      // And --json failures keep a stable shape
      assert.deepEqual(jsonOf(await cli('list', '--address', '127.0.0.1:1', '--json')), {
        error: { code: 5, message: unreachable.stderr.replace(/^kubemedic: /, '').trim() },
      });
    },
  );
});

describe('kubemedic CLI: deciding and cancelling', () => {
  it('approves by update, and refuses a second approval with exit code 4', { timeout: 300_000 }, async () => {
    // Given a run awaiting approval
    const handle = await startRun('approve-me', awaitingApproval);
    await inPhase(handle, 'AwaitingApproval');
    // When it is shown and running runs are listed, then it is there, awaiting a decision
    const shown = await cli('show', handle.workflowId);
    expectExit(shown, 0);
    assert.match(shown.stdout, /Phase\s+AwaitingApproval/);
    assert.match(shown.stdout, /Approval\s+awaiting a decision/);
    await eventually('the run among the running ones', async () => {
      const running = jsonOf<RunRow[]>(
        await cli('list', '--running', '--phase', 'AwaitingApproval', '--json'),
      );
      return running.some((r) => r.workflowId === handle.workflowId) ? true : undefined;
    });
    // When alice approves with the CLI
    const approved = await cli(
      'approve',
      handle.workflowId,
      '--via-temporal',
      '--by',
      'alice',
      '--reason',
      'looks right',
    );
    expectExit(approved, 0);
    assert.match(approved.stdout, /approved by alice \(looks right\)/);
    // Then a second approval is refused, exit 4
    const twice = await cli('approve', handle.workflowId, '--via-temporal', '--by', 'bob');
    expectExit(twice, 4);
    assert.match(twice.stderr, /not awaiting approval/);
    // And the run acts and succeeds
    const result = await handle.result();
    assert.equal(result.outcome, 'Succeeded', result.reason);
    assert.deepEqual(result.approval, {
      decision: 'approved',
      by: 'alice',
      reason: 'looks right',
      via: 'update',
      channel: unauthenticatedUpdate,
    });
    assert.equal(await replicasOf('approve-me'), 3);
    // And explain tells who approved, how and why
    assert.match(
      (await cli('explain', handle.workflowId)).stdout,
      /approval\s+approved by alice via Temporal update \(unauthenticated\): looks right/,
    );
  });

  it(
    'show --watch follows a run named by its object through approval to its outcome, then ends',
    { timeout: 300_000 },
    async () => {
      // Given a run awaiting approval, watched by its object's name
      const handle = await startRun('watch-me', awaitingApproval);
      await inPhase(handle, 'AwaitingApproval');
      const byObject = ['deploy/watch-me', '-n', namespace.name, '--policy', 'watch-me'];
      const watching = kubemedicRunning(['show', ...byObject, '--watch', '--cluster', medic.cluster]);
      try {
        await watching.printed(/Phase\s+AwaitingApproval/);
        // When it is approved (straight through the update: this test is about the watch)
        await handle.executeUpdate(approveUpdate, { args: [{ by: 'erin' }] });
        // Then the watch prints it again as it moves on, up to its outcome, and ends by itself
        await watching.printed(/Outcome\s+Succeeded/, 180_000);
        const ended = await watching.exited;
        expectExit(ended, 0);
        assert.match(ended.stdout, new RegExp(`Run\\s+${handle.workflowId}`));
        assert.ok((ended.stdout.match(/^Run\s/gm) ?? []).length >= 2, 'printed again on change');
      } finally {
        await watching.stop();
      }
    },
  );

  it('rejects by update: nothing changes', { timeout: 300_000 }, async () => {
    const handle = await startRun('reject-me', awaitingApproval);
    await inPhase(handle, 'AwaitingApproval');
    const rejected = await cli(
      'reject',
      handle.workflowId,
      '--via-temporal',
      '--by',
      'carol',
      '--reason',
      'not now',
      '--json',
    );
    expectExit(rejected, 0);
    assert.deepEqual(jsonOf(rejected), {
      decision: 'rejected',
      by: 'carol',
      reason: 'not now',
      via: 'update',
      channel: unauthenticatedUpdate,
    });
    const result = await handle.result();
    assert.equal(result.outcome, 'Rejected');
    assert.match(result.reason, /rejected by carol: not now/);
    assert.equal(await replicasOf('reject-me'), 2);
  });

  it('cancels a run in the middle: it rolls back, and explain tells it', { timeout: 300_000 }, async () => {
    // Given a run that has scaled and waits to verify
    const handle = await startRun('cancel-me', { verification: { settle: '10m' } });
    await inPhase(handle, 'Verifying');
    assert.equal(await replicasOf('cancel-me'), 3);
    // When it is cancelled with the CLI, waiting for the outcome
    const cancelled = await cli(
      'cancel',
      handle.workflowId,
      '--via-temporal',
      '--by',
      'dave',
      '--reason',
      'wrong target',
      '--wait',
    );
    // Then it says it rolled back, and the Deployment is as it was
    expectExit(cancelled, 0);
    assert.match(cancelled.stdout, /Cancelled: cancelled by dave \(wrong target\); rollback: RolledBack/);
    assert.equal(await replicasOf('cancel-me'), 2);
    const explained = await cli('explain', handle.workflowId);
    assert.match(explained.stdout, /cancel requested by dave \(wrong target\)/);
    assert.match(explained.stdout, /rollback\s+RolledBack: restored \/spec\/replicas/);
    // And a finished run cannot be cancelled again
    await handle.result();
    expectExit(await cli('cancel', handle.workflowId, '--via-temporal'), 4);
  });
});

describe('kubemedic CLI: pause and resume', () => {
  it(
    'pauses the cluster: a new run is Skipped as paused, explained; resume lifts it',
    { timeout: 300_000 },
    async () => {
      // Given the cluster paused with the CLI
      const paused = await cli('pause', '--via-temporal', '--by', 'oncall', '--reason', 'incident 42');
      expectExit(paused, 0);
      assert.match(paused.stdout, /Paused\s+yes, by oncall: incident 42/);

      // When a run starts, then it is Skipped with the pause's reason and changes nothing
      const handle = await startRun('while-paused');
      const result = await handle.result();
      assert.equal(result.outcome, 'Skipped');
      assert.equal(result.reason, 'paused: paused by oncall: incident 42');
      assert.equal(await replicasOf('while-paused'), 2);
      // And explain names the refusal
      const explained = await cli('explain', handle.workflowId);
      assert.match(
        explained.stdout,
        /permit REFUSED by governor\/.*\/cluster: paused: paused by oncall: incident 42/,
      );
      assert.match(explained.stdout, /Outcome\s+Skipped/);

      // When the cluster is resumed, then status says it is not paused
      expectExit(await cli('resume', '--via-temporal', '--by', 'oncall'), 0);
      const status = jsonOf<{ paused: boolean }>(await cli('status', '--json'));
      assert.equal(status.paused, false);

      // When one policy is paused, then its governor says so, and resume lifts it
      const policy = `${namespace.name}/while-paused`;
      const policyPaused = jsonOf<{ governor: string; paused: boolean }>(
        await cli('pause', '--via-temporal', '--policy', policy, '--reason', 'tuning', '--json'),
      );
      assert.deepEqual(policyPaused.governor, `governor/${medic.cluster}/policy/${policy}`);
      assert.equal(policyPaused.paused, true);
      expectExit(await cli('resume', '--via-temporal', '--policy', policy), 0);
      assert.equal(
        jsonOf<{ paused: boolean }>(await cli('status', '--policy', policy, '--json')).paused,
        false,
      );
    },
  );
});

describe('kubemedic CLI: kubectl conventions', () => {
  it('prints its version, suggests the command meant, and refuses an unknown -o (exit 2)', async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as {
      version: string;
    };
    const printed = await cli('--version');
    expectExit(printed, 0);
    assert.equal(printed.stdout, `kubemedic ${version}\n`);
    assert.deepEqual(jsonOf(await cli('--version', '-o', 'json')), { version });

    const mistyped = await cli('lsit');
    expectExit(mistyped, 2);
    assert.match(mistyped.stderr, /unknown command "lsit"\. Did you mean `kubemedic list`\?/);
    const mistypedFlag = await cli('list', '--polcy', 'x');
    expectExit(mistypedFlag, 2);
    assert.match(
      mistypedFlag.stderr,
      /unknown flag --polcy\. Did you mean --policy\? \(see `kubemedic list --help`\)/,
    );
    assert.doesNotMatch(mistypedFlag.stderr, /positional argument/);

    const badFormat = await cli('list', '-o', 'jsn');
    expectExit(badFormat, 2);
    assert.match(badFormat.stderr, /-o takes json, yaml, wide, not "jsn"\. Did you mean -o json\?/);
    // And -o yaml failures keep the same shape as --json's
    const yamlFailure = await cli('show', '-o', 'yaml');
    expectExit(yamlFailure, 2);
    assert.deepEqual(parseYaml(yamlFailure.stdout), {
      error: {
        code: 2,
        message: 'name the run: its workflow ID, as `kubemedic list` shows it, or deploy/NAME',
      },
    });
  });

  it('an unreachable remote Temporal is named with the check to run, not the local stack (5)', async () => {
    const remote = await cli('list', '--address', 'kubemedic-test.invalid:7233');
    expectExit(remote, 5);
    assert.match(remote.stderr, /`temporal operator cluster health --address kubemedic-test\.invalid:7233`/);
    assert.doesNotMatch(remote.stderr, /devstack/);
  });

  it("--context picks the kubeconfig's context, as kubectl's does", { timeout: 120_000 }, async () => {
    // Given a kubeconfig whose current context names an API server that does not exist, and
    // another context for the local stack
    const kubeconfigPath = twoContextKubeconfig();
    // When policies are listed with the current context, then the fix names that context (5)
    const broken = await kubemedic(['list', 'policies', '--kubeconfig', kubeconfigPath]);
    expectExit(broken, 5);
    assert.match(broken.stderr, /cannot reach Kubernetes at https:\/\/kubemedic-test\.invalid:6443/);
    assert.match(broken.stderr, /`kubectl --context broken cluster-info`/);
    // When --context names the good one, then the policies are listed
    const good = await kubemedic([
      'list',
      'policies',
      '--kubeconfig',
      kubeconfigPath,
      '--context',
      'good',
      '-o',
      'json',
    ]);
    expectExit(good, 0);
    assert.ok(Array.isArray(jsonOf(good)));
    // When --context names none of them, then it is a usage error naming those there are (2)
    const unknown = await kubemedic([
      'list',
      'policies',
      '--kubeconfig',
      kubeconfigPath,
      '--context',
      'nope',
    ]);
    expectExit(unknown, 2);
    assert.match(unknown.stderr, /--context nope: .* has no such context; it has good, broken/);
  });
});

/** A kubeconfig file with contexts `good` (the local stack) and `broken` (current; a server that is nowhere). */
function twoContextKubeconfig(): string {
  const stack = kubeconfig();
  const cluster = stack.getCurrentCluster();
  const user = stack.getCurrentUser();
  assert.ok(cluster && user);
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      cluster,
      { name: 'nowhere', server: 'https://kubemedic-test.invalid:6443', skipTLSVerify: true },
    ],
    users: [user],
    contexts: [
      { name: 'good', cluster: cluster.name, user: user.name },
      { name: 'broken', cluster: 'nowhere', user: user.name },
    ],
    currentContext: 'broken',
  });
  const path = join(mkdtempSync(join(tmpdir(), 'kubemedic-cli-')), 'kubeconfig');
  writeFileSync(path, config.exportConfig());
  return path;
}

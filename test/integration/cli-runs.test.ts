/**
 * Naming a run by its object (`kubemedic show deploy/web -n shop --policy p`) and `list --watch`,
 * on the real Temporal server, with parked runs (test/support/parked-runs.ts: no worker needed);
 * each test has its own cluster name.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { TargetRef } from '../../domain/run.ts';
import { type CliResult, jsonOf, kubemedic, kubemedicRunning } from '../support/cli.ts';
import { type ParkedRuns, useParkedRuns } from '../support/parked-runs.ts';
import { kubeconfig } from '../support/stack.ts';

const runs = useParkedRuns();
const parkedRun = (...args: Parameters<ParkedRuns['park']>) => runs.park(...args);
const listed = (cluster: string, count: number) => runs.listed(cluster, count);

const expectExit = (result: CliResult, code: number) =>
  assert.equal(result.code, code, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);

/** `history` needs no worker: it shows which run a name resolved to. */
const resolved = async (cluster: string, ...args: string[]) =>
  jsonOf<{ workflowId: string; runId: string }>(
    await kubemedic(['history', ...args, '--cluster', cluster, '-o', 'json']),
  );

describe('kubemedic: a run named by its object', () => {
  it(
    'resolves kind/name with -n and --policy, lists candidates when ambiguous, refuses what is not there',
    { timeout: 240_000 },
    async () => {
      // Given two policies' runs on deploy/web in shop, and one on sts/db
      const cluster = `cli-${randomBytes(3).toString('hex')}`;
      const web: TargetRef = { kind: 'Deployment', namespace: 'shop', name: 'web' };
      const scaleUp = await parkedRun(cluster, web, { namespace: 'shop', name: 'scale-up' });
      const restart = await parkedRun(cluster, web, { name: 'restart-all' });
      const db = await parkedRun(
        cluster,
        { kind: 'StatefulSet', namespace: 'shop', name: 'db' },
        { namespace: 'shop', name: 'p' },
      );
      await listed(cluster, 3);

      // When named by object and policy, then each resolves to its own run, with kubectl's kind names
      assert.equal(
        (await resolved(cluster, 'deploy/web', '-n', 'shop', '--policy', 'scale-up')).workflowId,
        scaleUp.workflowId,
      );
      assert.equal(
        (await resolved(cluster, 'deployment.apps/web', '-n', 'shop', '--policy', 'shop/scale-up'))
          .workflowId,
        scaleUp.workflowId,
      );
      // And a ClusterRemediationPolicy's bare name finds its run too
      assert.equal(
        (await resolved(cluster, 'deployments/web', '--namespace', 'shop', '--policy', 'restart-all'))
          .workflowId,
        restart.workflowId,
      );
      // And a target with runs of one policy needs no --policy
      assert.equal((await resolved(cluster, 'sts/db', '-n', 'shop')).workflowId, db.workflowId);

      // When two policies' runs match, then it is a usage error that lists both and the flag to pick
      const ambiguous = await kubemedic(['show', 'deploy/web', '-n', 'shop', '--cluster', cluster]);
      expectExit(ambiguous, 2);
      assert.match(ambiguous.stderr, /runs of several policies target Deployment shop\/web: /);
      assert.match(ambiguous.stderr, new RegExp(`shop/scale-up \\(${scaleUp.workflowId}\\)`));
      assert.match(
        ambiguous.stderr,
        new RegExp(`restart-all \\(${restart.workflowId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`),
      );
      assert.match(ambiguous.stderr, /pick one with --policy NAME/);

      // When nothing ran on the object, then not found (3), naming where it looked
      const none = await kubemedic(['explain', 'po/web-0', '-n', 'shop', '--cluster', cluster]);
      expectExit(none, 3);
      assert.match(
        none.stderr,
        new RegExp(`no run for Pod shop/web-0 in cluster ${cluster}: \`kubemedic list -n shop\``),
      );
      // And a kind no policy targets, or no kind at all, is a usage error that says so
      const daemonSet = await kubemedic(['show', 'ds/agent', '-n', 'shop', '--cluster', cluster]);
      expectExit(daemonSet, 2);
      assert.match(daemonSet.stderr, /ds\/agent: KubeMedic policies do not target ds/);
      expectExit(await kubemedic(['cancel', 'gadget/web', '--cluster', cluster]), 2);

      // When no -n is given, then the kubeconfig context's namespace is used, as kubectl does
      const contextInShop = kubeconfigWithNamespace('shop');
      assert.equal(
        (await resolved(cluster, 'sts/db', '--kubeconfig', contextInShop)).workflowId,
        db.workflowId,
      );
      const inDefault = await kubemedic([
        'history',
        'sts/db',
        '--cluster',
        cluster,
        '--kubeconfig',
        kubeconfigWithNamespace(undefined),
      ]);
      expectExit(inDefault, 3);
      assert.match(inDefault.stderr, /no run for StatefulSet default\/db .*\(another namespace: -n NS\)/);
    },
  );
});

describe('kubemedic list --watch', () => {
  it(
    'prints the table, then a line for each run that starts or changes, until Ctrl-C (exit 0)',
    { timeout: 240_000 },
    async () => {
      // Given a cluster with one run
      const cluster = `cliw-${randomBytes(3).toString('hex')}`;
      const first = await parkedRun(
        cluster,
        { kind: 'Deployment', namespace: 'w', name: 'one' },
        { namespace: 'w', name: 'p' },
      );
      await listed(cluster, 1);
      // When the list is watched
      const watching = kubemedicRunning(['list', '--watch', '--cluster', cluster]);
      try {
        await watching.printed(/^ID\s+PHASE.*\n.*Deployment w\/one\s+w\/p\s+Scale\s+\S+\s+RUNNING$/m);
        // And another run starts, then the first is terminated
        const second = await parkedRun(
          cluster,
          { kind: 'Deployment', namespace: 'w', name: 'two' },
          { namespace: 'w', name: 'p' },
        );
        await watching.printed(
          new RegExp(`^${second.workflowId}\\s+Pending\\s+Deployment w/two .*RUNNING$`, 'm'),
        );
        await first.terminate('the watch test changes it');
        // Then each is a new line, the first now TERMINATED
        await watching.printed(
          new RegExp(`^${first.workflowId}\\s+Pending\\s+Deployment w/one .*TERMINATED$`, 'm'),
        );
        assert.equal(watching.stdout().match(/^ID\s+PHASE/gm)?.length, 1, 'the header is printed once');
      } finally {
        // When Ctrl-C, then it ends cleanly
        const ended = await watching.stop('SIGINT');
        expectExit(ended, 0);
      }
    },
  );
});

/** A copy of the stack's kubeconfig whose context names `namespace` (or none). */
function kubeconfigWithNamespace(namespace: string | undefined): string {
  const config = kubeconfig();
  const context = config.getContextObject(config.getCurrentContext());
  assert.ok(context);
  config.contexts = config.contexts.map((c) => (c.name === context.name ? { ...c, namespace } : c));
  const path = join(mkdtempSync(join(tmpdir(), 'kubemedic-ns-')), 'kubeconfig');
  writeFileSync(path, config.exportConfig());
  return path;
}

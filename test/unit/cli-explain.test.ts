/**
 * `kubemedic explain` and `history` on histories recorded from real runs (test/fixtures/histories):
 * each outcome is told with its reason, in the order it happened.
 */
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runsQuery } from '../../cli/commands/list.ts';
import { decodeHistory, type History } from '../../cli/history.ts';
import { explain } from '../../cli/timeline.ts';
import { historiesDir } from '../support/histories.ts';

function explained(fixture: string) {
  const { history } = JSON.parse(readFileSync(join(historiesDir, `${fixture}.json`), 'utf8')) as {
    history: unknown;
  };
  return explain(decodeHistory(historyFromJSON(history) as History));
}

const steps = (fixture: string) => explained(fixture).timeline.map((entry) => `${entry.what}: ${entry.text}`);

describe('explain', () => {
  it('tells a succeeded run: permits, backup with its hash, the change, verification, cooldown', () => {
    const timeline = steps('scale-succeeded');
    const order = ['trigger', 'backup', 'execute', 'verify', 'outcome', 'cooldown', 'end'].map((what) =>
      timeline.findIndex((line) => line.startsWith(`${what}: `)),
    );
    assert.ok(
      order.every((index) => index >= 0),
      timeline.join('\n'),
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      'in the order it happened',
    );
    assert.match(timeline.join('\n'), /backup: backed up Deployment .*\(sha256 [0-9a-f]{64}\)/);
    // Asked by update: both governors' grants are in the requestPermits activity's result.
    assert.match(
      timeline.join('\n'),
      /permit: permit granted by governor\/.*\/policy\/.*, governor\/.*\/cluster/,
    );
    assert.equal(explained('scale-succeeded').outcome, 'Succeeded');
  });

  it('tells who approved, through which message', () => {
    assert.match(
      steps('approved-by-update').join('\n'),
      /approval: approved by alice via Temporal update \(unauthenticated\): looks right/,
    );
    // Runs recorded before decisions named their channel say only the message kind.
    assert.match(
      steps('pre-permits-by-update-approved-by-update').join('\n'),
      /approval: approved by alice via update: looks right/,
    );
  });

  it('tells a rejection by signal and its reason', () => {
    const run = explained('rejected-by-signal');
    assert.equal(run.outcome, 'Rejected');
    assert.match(run.reason ?? '', /rejected by carol: not during the sale/);
    assert.match(
      steps('rejected-by-signal').join('\n'),
      /approval: reject signal from carol \(not during the sale\)/,
    );
  });

  it('tells a rollback conflict: which field someone changed, and that it was kept', () => {
    const timeline = steps('rollback-conflict').join('\n');
    assert.match(timeline, /verify: NOT healthy/);
    assert.match(timeline, /rollback: RollbackConflict: .*\/spec\/replicas is 7, not the 3 KubeMedic wrote/);
    assert.equal(explained('rollback-conflict').outcome, 'Failed');
  });

  it('tells a cancel and the rollback it ran', () => {
    const timeline = steps('cancelled-and-rolled-back').join('\n');
    assert.match(timeline, /cancel: cancel requested by dave \(wrong target\)/);
    assert.match(timeline, /rollback: RolledBack/);
    assert.equal(explained('cancelled-and-rolled-back').outcome, 'Cancelled');
  });
});

describe('list', () => {
  it('tells a target left to a person: the refused permit, until when, and how to act sooner', () => {
    const run = explained('needs-attention');
    assert.equal(run.outcome, 'NeedsAttention');
    const timeline = steps('needs-attention').join('\n');
    assert.match(
      timeline,
      /permit: permit REFUSED by governor\/.*: needs-attention: 1 attempts on this target/,
    );
    assert.match(timeline, /outcome: NeedsAttention: .*no automatic action on this target until 20\d\d-/);
    assert.match(
      timeline,
      /attention: left to a person: .*holds its workflow ID [\d.]+s more.*terminate it to let KubeMedic act sooner/,
    );
  });

  it('filters by the search attributes, quoting values so they cannot change the query', () => {
    assert.equal(
      runsQuery('prod', { policy: "shop/it's", phase: 'Skipped', running: true }),
      "WorkflowType = 'remediation' AND KubeMedicCluster = 'prod' AND KubeMedicPolicy = 'shop/it\\'s' " +
        "AND KubeMedicPhase = 'Skipped' AND ExecutionStatus = 'Running'",
    );
  });

  it('drops only the cluster filter for --all-clusters', () => {
    assert.equal(
      runsQuery('prod', { 'all-clusters': true, namespace: 'shop' }),
      "WorkflowType = 'remediation' AND KubeMedicNamespace = 'shop'",
    );
  });
});

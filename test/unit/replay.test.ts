/**
 * Every history recorded from an end-to-end run (test/fixtures/histories) must replay against
 * the current workflow code. A change that alters the shape of a released workflow fails here
 * and must be guarded with patched().
 */
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { workflowsPath } from '../../worker/worker.ts';
import { historiesDir } from '../support/histories.ts';

const fixtures = readdirSync(historiesDir).filter((file) => file.endsWith('.json'));

it('has recorded histories to replay', () => {
  assert.ok(fixtures.length >= 2, `found ${fixtures.length} histories in ${historiesDir}`);
});

for (const file of fixtures) {
  it(`replays ${file} without a determinism error`, { timeout: 60_000 }, async () => {
    const { workflowId, history } = JSON.parse(readFileSync(join(historiesDir, file), 'utf8')) as {
      workflowId: string;
      history: unknown;
    };
    await Worker.runReplayHistory({ workflowsPath }, historyFromJSON(history), workflowId);
  });
}

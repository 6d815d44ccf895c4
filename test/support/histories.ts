/**
 * Histories recorded from end-to-end runs become replay fixtures: with
 * KUBEMEDIC_RECORD_HISTORIES=1 a run's history is written to test/fixtures/histories, and
 * test/unit/replay.test.ts replays every committed one against the current workflow code.
 */
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../devstack/config.ts';

export const historiesDir = join(repoRoot, 'test/fixtures/histories');

export async function saveHistory(client: Client, workflowId: string, name: string): Promise<void> {
  if (process.env.KUBEMEDIC_RECORD_HISTORIES !== '1') return;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  // historyToJSON writes the canonical proto JSON, the same form `temporal workflow show --output json` gives.
  const json = JSON.parse(historyToJSON(history)) as unknown;
  writeFileSync(
    join(historiesDir, `${name}.json`),
    `${JSON.stringify({ workflowId, history: json }, null, 1)}\n`,
  );
}

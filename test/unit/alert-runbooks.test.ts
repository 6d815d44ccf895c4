/**
 * Every alert the chart ships links its runbook: runbook_url is the alert's row of "When something
 * fails" in docs/operations.md, and that row carries the anchor the link names.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

const repoRoot = join(import.meta.dirname, '../..');
const runbook = 'https://github.com/kubemedic/kubemedic/blob/main/docs/operations.md';

interface Rule {
  alert: string;
  annotations?: Record<string, string>;
}
const alerts = (
  parse(readFileSync(join(repoRoot, 'charts/kubemedic/files/alerts.yaml'), 'utf8')) as {
    groups: { rules: Rule[] }[];
  }
).groups.flatMap((g) => g.rules);

/** The body of docs/operations.md's "When something fails", split by table row. */
function runbookRows(): string[] {
  const text = readFileSync(join(repoRoot, 'docs/operations.md'), 'utf8');
  const section = /^## When something fails\n([\s\S]*?)(?=^## )/m.exec(text)?.[1];
  assert.ok(section, 'docs/operations.md has no "When something fails" section');
  return section.split('\n').filter((line) => line.startsWith('|'));
}

describe('the alerts', () => {
  it('are there to check', () => assert.ok(alerts.length >= 10, `${alerts.length} alerts`));

  it("each link the runbook row of its own name, whose anchor is in docs/operations.md's table", () => {
    const rows = runbookRows();
    for (const { alert, annotations } of alerts) {
      const anchor = alert.toLowerCase();
      assert.equal(annotations?.runbook_url, `${runbook}#${anchor}`, alert);
      const row = rows.filter((line) => line.includes(`<a id="${anchor}"></a>`));
      assert.equal(row.length, 1, `one row of the runbook table has the anchor of ${alert}`);
      assert.match(row[0]!, new RegExp(`\`${alert}\``), `the anchored row is about ${alert}`);
    }
  });
});

/**
 * The chart's alert rules (charts/kubemedic/files/alerts.yaml) pass `promtool check rules`, and
 * `promtool test rules` runs their unit tests (test/fixtures/alert-rules.test.yaml): each alert
 * fires on the series it is about, with the labels and annotations a person will read, and stays
 * quiet on healthy series.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { repoRoot } from '../../devstack/config.ts';
import { environment } from '../../devstack/stack.ts';

const run = promisify(execFile);
const rulesFile = join(repoRoot, 'charts/kubemedic/files/alerts.yaml');
const testsFile = join(repoRoot, 'test/fixtures/alert-rules.test.yaml');
const alertNames = (): string[] =>
  parse(readFileSync(rulesFile, 'utf8')).groups.flatMap((g: { rules: { alert: string }[] }) =>
    g.rules.map((r) => r.alert),
  );

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(environment().PROMTOOL_BIN, args);
    return stdout + stderr;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    assert.fail(`promtool ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

describe('the alert rules', () => {
  it('pass promtool check rules', async () => {
    const output = await promtool('check', 'rules', rulesFile);
    assert.match(output, new RegExp(`SUCCESS: ${alertNames().length} rules found`));
  });

  it('pass their promtool unit tests', async () => {
    assert.match(await promtool('test', 'rules', testsFile), /SUCCESS/);
  });

  it('have a unit test for every alert', () => {
    const tested = new Set(
      parse(readFileSync(testsFile, 'utf8')).tests.flatMap(
        (t: { alert_rule_test: { alertname: string }[] }) => t.alert_rule_test.map((a) => a.alertname),
      ),
    );
    assert.deepEqual(
      alertNames().filter((alert) => !tested.has(alert)),
      [],
      'alerts without a promtool test',
    );
  });
});

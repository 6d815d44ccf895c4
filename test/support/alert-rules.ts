/**
 * Prometheus alerting rules for tests: a rule file dropped into the stack's rules directory,
 * Prometheus reloaded, and both undone when the test is over.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { environment } from '../../devstack/stack.ts';
import { eventually } from './stack.ts';

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/**
 * Reloads Prometheus' configuration and rules, and waits until its notifier knows the
 * Alertmanager again: a reload empties that list until service discovery fills it (a few
 * seconds), and an alert that fires meanwhile waits for Prometheus' resend delay (1m).
 */
export async function reloadPrometheus(): Promise<void> {
  const prometheus = environment().PROMETHEUS_URL;
  const response = await fetch(`${prometheus}/-/reload`, { method: 'POST' });
  assert.equal(response.status, 200, `Prometheus reload: ${await response.text()}`);
  await eventually('Prometheus to know the Alertmanager again after the reload', async () => {
    const answer = (await (await fetch(`${prometheus}/api/v1/alertmanagers`)).json()) as {
      data: { activeAlertmanagers: unknown[] };
    };
    return answer.data.activeAlertmanagers.length > 0 ? true : undefined;
  });
}

/** Loads the rules as one group named `name`; the returned function removes them again. */
export async function loadAlertRules(name: string, rules: AlertRule[]): Promise<() => Promise<void>> {
  const file = join(environment().KUBEMEDIC_PROMETHEUS_RULES_DIR, `${name}.yml`);
  writeFileSync(file, stringify({ groups: [{ name, rules }] }));
  await reloadPrometheus();
  return async () => {
    rmSync(file, { force: true });
    await reloadPrometheus();
  };
}

/** An alert as Alertmanager's API v2 shows it. */
export interface AlertmanagerAlert {
  fingerprint: string;
  startsAt: string;
  endsAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorURL: string;
  status: { state: string };
}

/** The alerts Alertmanager holds now that carry `alertname`. */
export async function alertmanagerAlerts(alertname: string): Promise<AlertmanagerAlert[]> {
  const filter = encodeURIComponent(`alertname="${alertname}"`);
  const response = await fetch(`${environment().ALERTMANAGER_URL}/api/v2/alerts?filter=${filter}`);
  assert.equal(response.status, 200, `Alertmanager alerts: ${await response.clone().text()}`);
  return (await response.json()) as AlertmanagerAlert[];
}

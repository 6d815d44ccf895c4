/**
 * Prometheus alerting rules for tests: a rule file dropped into the stack's rules directory,
 * Prometheus reloaded, and both undone when the test is over; and Alertmanager routes to a
 * test's own receiver.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { alertmanagerConfigFile, kubemedicReceiverHttpConfig } from '../../devstack/server-configs.ts';
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

/** Posts alerts straight to Alertmanager's API, as Prometheus would; Alertmanager routes and delivers them. */
export async function postToAlertmanager(
  alerts: { labels: Record<string, string>; annotations?: Record<string, string>; endsAt?: string }[],
): Promise<void> {
  const response = await fetch(`${environment().ALERTMANAGER_URL}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(alerts.map((alert) => ({ annotations: {}, ...alert }))),
  });
  assert.equal(response.status, 200, `Alertmanager alerts: ${await response.text()}`);
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

/**
 * Routes the alerts labelled `kubemedic_test_receiver="<id>"` to `url`, with the stack's alert
 * receiver token (as the watcher's own route sends it) or the `httpConfig` given (a tls_config
 * for mutual TLS), for as long as the test
 * needs: a route and a receiver added to the stack's Alertmanager configuration, which is then
 * reloaded; the returned function takes them out again. So a test's watcher receives alerts on a
 * port the test picked, never on the stack's fixed watcher port (8091), which the demo's watcher
 * holds while it runs (issue 11). Alertmanager 0.25 (Debian's) reads a webhook URL only from its
 * configuration (no url_file yet), hence the rewrite.
 */
export async function routeAlertsTo(
  id: string,
  url: string,
  httpConfig: object = kubemedicReceiverHttpConfig(),
): Promise<() => Promise<void>> {
  const receiver = `kubemedic-test-${id}`;
  await rewriteAlertmanagerConfig((config) => {
    config.route.routes = [
      { receiver, matchers: [`kubemedic_test_receiver="${id}"`] },
      ...(config.route.routes ?? []),
    ];
    config.receivers.push({
      name: receiver,
      webhook_configs: [{ url, send_resolved: true, http_config: httpConfig }],
    });
  });
  const status = (await (await fetch(`${environment().ALERTMANAGER_URL}/api/v2/status`)).json()) as {
    config: { original: string };
  };
  assert.ok(status.config.original.includes(url), `Alertmanager routes ${receiver} to ${url}`);
  return () =>
    rewriteAlertmanagerConfig((config) => {
      config.route.routes = config.route.routes?.filter((route) => route.receiver !== receiver);
      config.receivers = config.receivers.filter((r) => r.name !== receiver);
    });
}

interface AlertmanagerConfig {
  route: { routes?: { receiver: string; matchers: string[] }[] };
  receivers: {
    name: string;
    webhook_configs: { url: string; send_resolved: boolean; http_config?: object }[];
  }[];
}

async function rewriteAlertmanagerConfig(change: (config: AlertmanagerConfig) => void): Promise<void> {
  const file = alertmanagerConfigFile();
  const config = parse(readFileSync(file, 'utf8')) as AlertmanagerConfig;
  change(config);
  writeFileSync(file, stringify(config));
  const response = await fetch(`${environment().ALERTMANAGER_URL}/-/reload`, { method: 'POST' });
  assert.equal(response.status, 200, `Alertmanager reload: ${await response.text()}`);
}

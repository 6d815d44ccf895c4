/** The configuration files the stack's servers read: kubeconfig, Prometheus and Alertmanager. */
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { apiserverUrlOf, clusters, type KubernetesCluster } from './clusters.ts';
import { paths, ports } from './config.ts';
import { pki } from './pki.ts';

export const apiserverUrl = () => apiserverUrlOf(clusters.a);

/** The admin's kubeconfig of one of the stack's clusters (clusters.ts), at that cluster's path. */
export function writeKubeconfig(cluster: KubernetesCluster = clusters.a): void {
  const b64 = (file: string) => readFileSync(file).toString('base64');
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster.name,
        cluster: { server: apiserverUrlOf(cluster), 'certificate-authority-data': b64(pki.caCert) },
      },
    ],
    users: [
      {
        name: 'kubemedic-admin',
        user: { 'client-certificate-data': b64(pki.adminCert), 'client-key-data': b64(pki.adminKey) },
      },
    ],
    contexts: [{ name: cluster.name, context: { cluster: cluster.name, user: 'kubemedic-admin' } }],
    'current-context': cluster.name,
  };
  writeFileSync(cluster.kubeconfig, stringify(kubeconfig), { mode: 0o600 });
}

export const prometheusConfigFile = () => join(paths.config, 'prometheus.yml');
export const alertmanagerConfigFile = () => join(paths.config, 'alertmanager.yml');

/**
 * Prometheus scrapes every server of the stack and KubeMedic's own processes, evaluates the rule
 * files under <state>/config/prometheus-rules (tests drop files there and POST /-/reload), and
 * sends alerts to the local Alertmanager. Intervals are short so tests see results quickly.
 */
export function writePrometheusConfig(): void {
  mkdirSync(paths.prometheusRules, { recursive: true });
  const local = (port: number) => [{ targets: [`127.0.0.1:${port}`] }];
  const config = {
    global: { scrape_interval: '5s', evaluation_interval: '1s' },
    rule_files: [join(paths.prometheusRules, '*.yml')],
    alerting: { alertmanagers: [{ static_configs: local(ports.alertmanager) }] },
    scrape_configs: [
      { job_name: 'prometheus', static_configs: local(ports.prometheus) },
      { job_name: 'alertmanager', static_configs: local(ports.alertmanager) },
      { job_name: 'etcd', static_configs: local(ports.etcd) },
      { job_name: 'temporal', static_configs: local(ports.temporalMetrics) },
      { job_name: 'temporal-server', static_configs: local(ports.temporalServerMetrics) },
      { job_name: 'kwok', static_configs: local(ports.kwok) },
      { job_name: 'kubemedic-worker', static_configs: local(ports.kubemedicWorker) },
      { job_name: 'kubemedic-watcher', static_configs: local(ports.kubemedicWatcher) },
      {
        job_name: 'kube-apiserver',
        scheme: 'https',
        tls_config: { ca_file: pki.caCert, cert_file: pki.adminCert, key_file: pki.adminKey },
        static_configs: local(ports.apiserver),
      },
    ],
  };
  writeFileSync(prometheusConfigFile(), stringify(config));
}

/**
 * The bearer token the stack's Alertmanager sends to KubeMedic's alert receivers, as a Secret
 * mounted in both would hold it in a cluster: the demo's watcher and the tests' watchers read
 * this file (KUBEMEDIC_ALERT_RECEIVER_TOKEN_FILE), Alertmanager its `credentials_file`.
 */
export const alertReceiverTokenFile = () => join(paths.config, 'alert-receiver-token');

/** Makes the token once (random, 256 bits) and returns its file; later calls keep it. */
export function ensureAlertReceiverToken(): string {
  const file = alertReceiverTokenFile();
  if (existsSync(file)) return file;
  mkdirSync(paths.config, { recursive: true });
  // Written aside and linked into place, so a test process starting at the same moment reads
  // either no file or the whole token, and only one token ever wins.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  try {
    linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(draft, { force: true });
  }
  return file;
}

/** What a webhook_config of the stack's Alertmanager sends to a KubeMedic alert receiver. */
export const kubemedicReceiverHttpConfig = () => ({
  authorization: { type: 'Bearer', credentials_file: ensureAlertReceiverToken() },
});

/**
 * Alerts go to the policy watcher's webhook receiver, with its bearer token; alerts labelled
 * kubemedic_test_sink="true" go to a sink port that tests listen on, so a test never competes
 * with a running watcher.
 */
export function writeAlertmanagerConfig(): void {
  const webhook = (port: number, path: string, extra: object = {}) => [
    { url: `http://127.0.0.1:${port}${path}`, send_resolved: true, ...extra },
  ];
  const config = {
    route: {
      receiver: 'kubemedic-watcher',
      group_by: ['alertname', 'namespace'],
      group_wait: '1s',
      group_interval: '5s',
      repeat_interval: '1h',
      routes: [{ receiver: 'test-sink', matchers: ['kubemedic_test_sink="true"'] }],
    },
    receivers: [
      {
        name: 'kubemedic-watcher',
        webhook_configs: webhook(ports.watcherWebhook, '/alertmanager', {
          http_config: kubemedicReceiverHttpConfig(),
        }),
      },
      { name: 'test-sink', webhook_configs: webhook(ports.alertSink, '/alerts') },
    ],
  };
  writeFileSync(alertmanagerConfigFile(), stringify(config));
}

/**
 * The Helm chart on the local stack: rendered with the stack's own helm (HELM_BIN), and
 * KubeMedic's identities exactly as the chart makes them. `chartIdentities` applies the rendered
 * ServiceAccounts, roles and bindings and gives the worker and the watcher each a kubeconfig
 * holding a real token of its ServiceAccount (TokenRequest API), so the end-to-end tests and the
 * demo run them under the chart's rules and nothing more — impersonation included, which goes
 * through the worker ServiceAccount's own `impersonate` rule.
 */
import {
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { clusters, type KubernetesCluster } from './clusters.ts';
import { repoRoot } from './config.ts';
import { environment, loadKubeconfig } from './environment.ts';
import { failedWith } from '../domain/kube/errors.ts';

export const chartDir = join(repoRoot, 'charts/kubemedic');

/** Runs the stack's helm; throws with helm's own message (stderr) when it fails. */
export function helm(args: string[]): string {
  try {
    return execFileSync(environment().HELM_BIN, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`helm ${args.join(' ')} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  /** --set-string pairs are not enough for lists and numbers: values are passed as a values file. */
  values?: Record<string, unknown>;
}

/** `helm template` of the chart, parsed: one object per rendered manifest. */
export function renderChart({
  release = 'kubemedic',
  namespace = 'kubemedic-system',
  values = {},
}: RenderOptions = {}): KubernetesObject[] {
  const valuesFile = join(mkdtempSync(join(tmpdir(), 'kubemedic-values-')), 'values.json');
  writeFileSync(valuesFile, JSON.stringify(values));
  const text = helm(['template', release, chartDir, '--namespace', namespace, '--values', valuesFile]);
  return parseAllDocuments(text)
    .map((document) => document.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null);
}

const rbacKinds = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];

export interface ChartIdentities {
  /** The namespace the chart is "installed" in (its ServiceAccounts live there). */
  namespace: string;
  worker: KubeConfig;
  watcher: KubeConfig;
  /** The user names the API server knows them by: system:serviceaccount:<namespace>:<name>. */
  users: { worker: string; watcher: string };
  /** The same as files, for processes (KUBECONFIG). */
  workerKubeconfigFile: string;
  watcherKubeconfigFile: string;
}

const identities = new Map<string, Promise<ChartIdentities>>();

/**
 * Once per process and cluster (the stack's first unless another is named): the chart's RBAC
 * applied to it, and a token for each ServiceAccount, good on that cluster only.
 */
export function chartIdentities(cluster: KubernetesCluster = clusters.a): Promise<ChartIdentities> {
  const known = identities.get(cluster.name);
  if (known !== undefined) return known;
  const made = (async () => {
    const namespace = 'kubemedic-system';
    const admin = loadKubeconfig(cluster);
    await admin
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: namespace } } })
      .catch((error: unknown) => {
        if (!failedWith(error, 409)) throw error;
      });
    const objects = renderChart({ namespace });
    const api = KubernetesObjectApi.makeApiClient(admin);
    for (const object of objects.filter((o) => rbacKinds.includes(o.kind ?? ''))) {
      await api.patch(object, undefined, undefined, 'kubemedic-tests', true, PatchStrategy.ServerSideApply);
    }
    const serviceAccount = (component: 'worker' | 'watcher') => {
      const name = objects.find(
        (o) =>
          o.kind === 'ServiceAccount' && o.metadata?.labels?.['app.kubernetes.io/component'] === component,
      )?.metadata?.name;
      if (name === undefined) throw new Error(`the chart renders no ServiceAccount for the ${component}`);
      return name;
    };
    const worker = await tokenKubeconfig(admin, namespace, serviceAccount('worker'));
    const watcher = await tokenKubeconfig(admin, namespace, serviceAccount('watcher'));
    const users = {
      worker: `system:serviceaccount:${namespace}:${serviceAccount('worker')}`,
      watcher: `system:serviceaccount:${namespace}:${serviceAccount('watcher')}`,
    };
    const files = mkdtempSync(join(tmpdir(), 'kubemedic-identities-'));
    const workerKubeconfigFile = join(files, 'worker.kubeconfig');
    const watcherKubeconfigFile = join(files, 'watcher.kubeconfig');
    writeFileSync(workerKubeconfigFile, worker.exportConfig(), { mode: 0o600 });
    writeFileSync(watcherKubeconfigFile, watcher.exportConfig(), { mode: 0o600 });
    return { namespace, worker, watcher, users, workerKubeconfigFile, watcherKubeconfigFile };
  })();
  identities.set(cluster.name, made);
  return made;
}

/** A kubeconfig that authenticates as the ServiceAccount itself, with a token from the TokenRequest API. */
async function tokenKubeconfig(admin: KubeConfig, namespace: string, name: string): Promise<KubeConfig> {
  const request = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name,
    namespace,
    // Longer than any test file or demo session runs.
    body: { spec: { audiences: [], expirationSeconds: 24 * 3600 } },
  });
  const token = request.status?.token;
  const cluster = admin.getCurrentCluster();
  if (!token || cluster === null) throw new Error(`no token for ServiceAccount ${namespace}/${name}`);
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token }],
    contexts: [{ name, cluster: cluster.name, user: name }],
    currentContext: name,
  });
  return config;
}

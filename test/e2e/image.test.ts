/**
 * The container image, as close as this machine can get without a container engine: the files
 * the Dockerfile puts in it (production dependencies only), read-only as the chart mounts them,
 * run with the Dockerfile's ENTRYPOINT and the chart's args and ServiceAccounts. The watcher and
 * the worker from those files alone must start, become healthy, and carry out a remediation.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { ensureAlertReceiverToken } from '../../devstack/server-configs.ts';
import { environment } from '../../devstack/stack.ts';
import { statusQuery } from '../../domain/messages.ts';
import { chartIdentities, renderChart } from '../support/chart.ts';
import {
  type AssembledImage,
  assembleImage,
  makeReadOnly,
  makeWritable,
  mountFile,
  runImage,
} from '../support/image.ts';
import { testRunLabel } from '../support/kubemedic.ts';
import { conditions, deploymentPolicy, scale } from '../support/policy-builder.ts';
import { freePort } from '../support/ports.ts';
import { useScenario } from '../support/scenario.ts';
import { givenServiceAccount } from '../support/service-accounts.ts';
import { eventually } from '../support/stack.ts';
import { readDeployment } from '../support/workloads.ts';

// No worker in this process: the image's worker is the one that acts.
const { namespace, medic, scenario } = useScenario('kmimg', { inProcessWorker: false });

let image: AssembledImage;
const processes: ChildProcess[] = [];
before(
  () => {
    image = assembleImage();
    makeReadOnly(image.app);
  },
  { timeout: 600_000 },
);
after(() => {
  for (const process of processes) process.kill('SIGKILL');
  if (image) {
    makeWritable(image.app);
    rmSync(image.root, { recursive: true, force: true });
  }
});

/** The container args of the chart's Deployment for `component`. */
function chartArgs(component: 'worker' | 'watcher'): string[] {
  const deployment = renderChart().find(
    (o) => o.kind === 'Deployment' && o.metadata?.labels?.['app.kubernetes.io/component'] === component,
  ) as { spec: { template: { spec: { containers: { args: string[] }[] } } } } | undefined;
  const args = deployment?.spec.template.spec.containers[0]?.args;
  if (!args) throw new Error(`the chart renders no ${component} Deployment with args`);
  return args;
}

it(
  "runs the watcher and the worker from the image's files alone, read-only, and they remediate",
  { timeout: 240_000 },
  async (t) => {
    // Given the image's files: what the Dockerfile copies, with production dependencies only,
    // read-only, run as its USER (when the test runs as root; otherwise as the test's user)
    // built JavaScript and the prebuilt workflow bundle, run by plain node: no sources, no tsx
    assert.ok(existsSync(join(image.app, 'dist', 'worker', 'main.js')));
    assert.ok(existsSync(join(image.app, 'dist', 'worker', 'workflow-bundle.js')));
    assert.ok(existsSync(join(image.app, 'dist', 'policy-watcher', 'main.js')));
    assert.deepEqual(image.entrypoint, ['node']);
    for (const absent of [
      'worker',
      'workflows',
      'test',
      'devstack',
      'cli',
      'node_modules/typescript',
      'node_modules/eslint',
      'node_modules/esbuild',
      'node_modules/tsx',
    ]) {
      assert.ok(!existsSync(join(image.app, absent)), `${absent} is not in the image`);
    }
    // When the worker and the watcher run from them, as the chart runs them
    const identities = await chartIdentities();
    const log = join(image.root, 'processes.log');
    const common = {
      TEMPORAL_ADDRESS: environment().TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: environment().TEMPORAL_NAMESPACE,
      PROMETHEUS_URL: environment().PROMETHEUS_URL,
      KUBEMEDIC_CLUSTER: medic.cluster,
      KUBEMEDIC_NAMESPACE: identities.namespace,
    };
    const ports = {
      worker: await freePort(),
      workerSdk: await freePort(),
      watcher: await freePort(),
      alerts: await freePort(),
    };
    processes.push(
      runImage(
        image,
        chartArgs('worker'),
        {
          ...common,
          KUBECONFIG: mountFile(image, identities.workerKubeconfigFile),
          KUBEMEDIC_METRICS_PORT: String(ports.worker),
          // Not the SDK's default (9466): the demo's worker may hold it
          KUBEMEDIC_SDK_METRICS_PORT: String(ports.workerSdk),
          // The SDK's activity lines (which carry the run's workflowId, so its policy) are DEBUG
          KUBEMEDIC_LOG_LEVEL: 'DEBUG',
        },
        log,
      ),
      runImage(
        image,
        chartArgs('watcher'),
        {
          ...common,
          KUBECONFIG: mountFile(image, identities.watcherKubeconfigFile),
          KUBEMEDIC_METRICS_PORT: String(ports.watcher),
          KUBEMEDIC_ALERT_WEBHOOK_PORT: String(ports.alerts),
          // As the chart mounts the receiver's token Secret (the stack's token will do)
          KUBEMEDIC_ALERT_RECEIVER_TOKEN_FILE: mountFile(image, ensureAlertReceiverToken()),
          // Only this file's policies (the others' runs are not this worker's business)
          KUBEMEDIC_POLICY_SELECTOR: `${testRunLabel}=${medic.cluster}`,
        },
        log,
      ),
    );
    const output = () => (existsSync(log) ? readFileSync(log, 'utf8').slice(-4000) : '(no output)');
    // Then both become healthy
    for (const port of [ports.worker, ports.watcher]) {
      await eventually(
        `/healthz on ${port}`,
        async () =>
          (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok ? true : undefined,
        120_000,
      ).catch((error: unknown) => assert.fail(`${String(error)}\n${output()}`));
    }

    // When a policy's condition holds for a Deployment of 1 replica
    const s = scenario(t);
    await s.given.deployment('web', 1);
    // (the image runs with the chart's defaults: a namespaced policy acts as a ServiceAccount of its own)
    await givenServiceAccount(namespace.name, 'scaler', [
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] },
    ]);
    await s.given.policy(
      'scale-web',
      deploymentPolicy('web', {
        serviceAccountName: 'scaler',
        conditions: [conditions.deploymentUnavailable('always', 0)],
        actions: [scale({ replicas: 2 })],
        verification: { settle: '1s', conditions: [], onNoData: 'Pass' },
        cooldown: '10m',
      }),
    );
    // Then the watcher from the image starts a run, and the worker from the image scales it to 2
    // (waited for here, not with the scenario's steps: a failure shows the processes' output)
    await eventually(
      'replicas=2',
      async () => ((await readDeployment(namespace.name, 'web')).spec?.replicas === 2 ? true : undefined),
      90_000,
    ).catch((error: unknown) => assert.fail(`${String(error)}\n${output()}`));
    // (its 10m cooldown holds the run open: its outcome is read, not awaited)
    const status = await eventually('the run to succeed', async () => {
      const current = await s.run.query(statusQuery);
      return current.outcome ? current : undefined;
    });
    assert.equal(status.outcome, 'Succeeded', status.reason);

    // And everything both processes wrote is structured: one JSON object per line, with a level,
    // a time and the process, the run's lines labelled with its policy (domain/logging)
    const lines = readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return assert.fail(`a log line that is not JSON: ${line}`);
        }
      });
    for (const line of lines) {
      assert.ok(typeof line.level === 'string' && typeof line.time === 'string', JSON.stringify(line));
    }
    assert.ok(lines.some((line) => line.process === 'worker' && line.policy === 'scale-web'));
    assert.ok(lines.some((line) => line.process === 'watcher' && line.policy === 'scale-web'));
  },
);

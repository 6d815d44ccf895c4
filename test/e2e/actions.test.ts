/**
 * Every action of the catalogue through the whole loop, on the real stack. For each one:
 * Given a target and a policy whose condition is a remote-written signal,
 * When the signal goes high, the watcher starts a run and the action executes; the signal then
 * falls, so the run verifies and succeeds — and the target's state is asserted;
 * When the signal goes high again and stays high, a second run fails verification,
 * Then it is rolled back and every touched field equals its backup exactly (or, for an action
 * that cannot be undone, the run says so).
 */
import {
  AppsV1Api,
  AutoscalingV2Api,
  BatchV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { PolicyKind } from '../../api/policy.ts';
import { readFields, readObject } from '../../activities/actions/fields.ts';
import { managedLabel } from '../../activities/actions/run-job.ts';
import { statusQuery } from '../../domain/messages.ts';
import type { remediation } from '../../workflows/remediation.ts';
import { type RemediationResult, remediationWorkflowId, type TargetRef } from '../../domain/run.ts';
import { saveHistory } from '../support/histories.ts';
import { useTestNodes } from '../support/test-nodes.ts';
import { createPolicy, useKubeMedic } from '../support/kubemedic.ts';
import { remoteWrite } from '../../devstack/remote-write.ts';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';
import { createDeployment, createHpa, readDeployment, waitForRunningPods } from '../support/workloads.ts';

const namespace = useTestNamespace('kmx');
const medic = useKubeMedic();
const apps = () => kubeconfig().makeApiClient(AppsV1Api);
const core = () => kubeconfig().makeApiClient(CoreV1Api);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

// A webhook receiver for the Webhook action.
const webhookCalls: { path: string; body: { event: string } }[] = [];
const webhookServer = createServer((req, res) => {
  let text = '';
  req.on('data', (chunk: Buffer) => (text += chunk.toString()));
  req.on('end', () => {
    webhookCalls.push({ path: req.url ?? '', body: JSON.parse(text) });
    res.writeHead(200).end('{}');
  });
});
let webhookBase = '';
before(async () => {
  await new Promise<void>((resolvePromise) => webhookServer.listen(0, '127.0.0.1', resolvePromise));
  webhookBase = `http://127.0.0.1:${(webhookServer.address() as AddressInfo).port}`;
});
// One watcher for the whole file, started by the first test (after KubeMedic is up).
let watcher: Promise<unknown> | undefined;
after(() => webhookServer.close());

const testNodes = useTestNodes('kmx-node');
const createNode = testNodes.create;

interface ActionCase {
  type: string;
  action: (target: TargetRef) => Record<string, unknown>;
  policyKind?: PolicyKind;
  /** Creates the target (and whatever the action needs). */
  setup(name: string): Promise<TargetRef>;
  /** What the first, successful run must have done. */
  executed(target: TargetRef, result: RemediationResult): Promise<void>;
  /** Undo what a person would, so the second run changes something again. */
  betweenRuns?(target: TargetRef): Promise<void>;
  /** The second run's rollback; by default every touched field equals its backup. */
  rolledBack?(target: TargetRef, result: RemediationResult): Promise<void>;
}

async function deploymentTarget(name: string, replicas = 2): Promise<TargetRef> {
  await createDeployment(namespace.name, name, replicas);
  await waitForRunningPods(namespace.name, name, replicas);
  return { kind: 'Deployment', namespace: namespace.name, name };
}

const cases: ActionCase[] = [
  {
    type: 'Scale',
    action: () => ({ type: 'Scale', scale: { factor: 2, maxReplicas: 20 } }),
    setup: (name) => deploymentTarget(name),
    executed: async (target) =>
      assert.equal((await readDeployment(namespace.name, target.name)).spec?.replicas, 4),
  },
  {
    type: 'RestartPod',
    action: () => ({ type: 'RestartPod' }),
    setup: (name) => deploymentTarget(name),
    executed: async (target, result) => {
      const deleted = result.steps[0]!.backup!.fields['/metadata/uid'];
      const pods = await core().listNamespacedPod({
        namespace: namespace.name,
        labelSelector: `app=${target.name}`,
      });
      assert.ok(!pods.items.some((p) => p.metadata?.uid === deleted), 'the chosen pod was deleted');
    },
    rolledBack: async (_target, result) => {
      assert.equal(result.steps[0]!.rollback?.outcome, 'NotReversible');
      assert.match(result.steps[0]!.rollback!.reason, /cannot be restored/);
    },
  },
  {
    type: 'RolloutRestart',
    action: () => ({ type: 'RolloutRestart' }),
    setup: (name) => deploymentTarget(name),
    executed: async (target) => {
      const annotations = (await readDeployment(namespace.name, target.name)).spec?.template.metadata
        ?.annotations;
      assert.ok(annotations?.['kubectl.kubernetes.io/restartedAt'], 'the pod template carries restartedAt');
    },
  },
  {
    type: 'RollbackDeployment',
    action: () => ({ type: 'RollbackDeployment' }),
    setup: async (name) => {
      const target = await deploymentTarget(name, 1);
      await apps().patchNamespacedDeployment(
        {
          name,
          namespace: namespace.name,
          body: {
            spec: { template: { spec: { containers: [{ name: 'app', image: 'example.com/app:2' }] } } },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
      await eventually('a second revision', async () => {
        const sets = await apps().listNamespacedReplicaSet({
          namespace: namespace.name,
          labelSelector: `app=${name}`,
        });
        return sets.items.length >= 2 ? true : undefined;
      });
      return target;
    },
    executed: async (target) =>
      assert.equal(
        (await readDeployment(namespace.name, target.name)).spec?.template.spec?.containers[0]?.image,
        'example.com/app:1',
      ),
  },
  {
    type: 'UpdateResources',
    action: () => ({
      type: 'UpdateResources',
      updateResources: { container: 'app', requests: { memory: '256Mi' } },
    }),
    setup: (name) => deploymentTarget(name),
    executed: async (target) => {
      const requests = (await readDeployment(namespace.name, target.name)).spec?.template.spec?.containers[0]
        ?.resources?.requests;
      assert.deepEqual(requests, { cpu: '100m', memory: '256Mi' });
    },
    betweenRuns: async (target) => {
      await apps().patchNamespacedDeployment(
        {
          name: target.name,
          namespace: namespace.name,
          body: {
            spec: {
              template: {
                spec: { containers: [{ name: 'app', resources: { requests: { memory: '64Mi' } } }] },
              },
            },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    },
  },
  {
    type: 'AdjustHPA',
    action: () => ({ type: 'AdjustHPA', adjustHPA: { maxReplicas: 12 } }),
    setup: async (name) => {
      const target = await deploymentTarget(name, 1);
      await createHpa(namespace.name, name, name, 1, 4);
      return target;
    },
    executed: async (target) => {
      const hpa = await kubeconfig()
        .makeApiClient(AutoscalingV2Api)
        .readNamespacedHorizontalPodAutoscaler({ namespace: namespace.name, name: target.name });
      assert.equal(hpa.spec?.maxReplicas, 12);
    },
    betweenRuns: async (target) => {
      await kubeconfig()
        .makeApiClient(AutoscalingV2Api)
        .patchNamespacedHorizontalPodAutoscaler(
          { namespace: namespace.name, name: target.name, body: { spec: { maxReplicas: 5 } } },
          mergePatch,
        );
    },
  },
  {
    type: 'CordonNode',
    policyKind: 'ClusterRemediationPolicy',
    action: () => ({ type: 'CordonNode' }),
    setup: async () => ({ kind: 'Node', name: await createNode() }),
    executed: async (target) =>
      assert.equal((await core().readNode({ name: target.name })).spec?.unschedulable, true),
    betweenRuns: async (target) => {
      await core().patchNode({ name: target.name, body: { spec: { unschedulable: null } } }, mergePatch);
    },
  },
  {
    type: 'DrainNode',
    policyKind: 'ClusterRemediationPolicy',
    action: () => ({ type: 'DrainNode', drainNode: { timeout: '1m' } }),
    setup: async () => {
      const name = await createNode();
      await core().createNamespacedPod({
        namespace: namespace.name,
        body: {
          metadata: { name: `on-${name}` },
          spec: {
            nodeName: name,
            tolerations: [{ key: 'kubemedic.io/test-node', operator: 'Exists', effect: 'NoSchedule' }],
            containers: [{ name: 'app', image: 'example.com/app:1' }],
          },
        },
      });
      return { kind: 'Node', name };
    },
    executed: async (target) => {
      assert.equal((await core().readNode({ name: target.name })).spec?.unschedulable, true);
      await eventually('the pod to be evicted', async () => {
        const pods = await core().listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${target.name}` });
        return pods.items.length === 0 ? true : undefined;
      });
    },
    betweenRuns: async (target) => {
      await core().patchNode({ name: target.name, body: { spec: { unschedulable: null } } }, mergePatch);
    },
  },
  {
    type: 'Webhook',
    action: (target) => ({
      type: 'Webhook',
      webhook: {
        url: `${webhookBase}/execute/${target.name}`,
        rollbackUrl: `${webhookBase}/rollback/${target.name}`,
      },
    }),
    setup: (name) => deploymentTarget(name, 1),
    executed: async (target) =>
      assert.ok(webhookCalls.some((c) => c.path === `/execute/${target.name}` && c.body.event === 'execute')),
    rolledBack: async (target, result) => {
      assert.equal(result.steps[0]!.rollback?.outcome, 'RolledBack');
      assert.ok(
        webhookCalls.some((c) => c.path === `/rollback/${target.name}` && c.body.event === 'rollback'),
      );
    },
  },
  {
    type: 'RunJob',
    action: () => ({
      type: 'RunJob',
      runJob: {
        timeout: '2m',
        template: {
          backoffLimit: 0,
          template: {
            spec: { restartPolicy: 'Never', containers: [{ name: 'fix', image: 'example.com/fix:1' }] },
          },
        },
      },
    }),
    setup: (name) => deploymentTarget(name, 1),
    executed: async (_target, result) => {
      const job = await kubeconfig()
        .makeApiClient(BatchV1Api)
        .readNamespacedJob({ namespace: namespace.name, name: result.steps[0]!.backup!.object.name });
      assert.ok(
        job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'),
        'the Job completed',
      );
    },
    rolledBack: async (_target, result) => {
      assert.equal(result.steps[0]!.rollback?.outcome, 'RolledBack');
      const jobs = await kubeconfig()
        .makeApiClient(BatchV1Api)
        .listNamespacedJob({ namespace: namespace.name, labelSelector: `${managedLabel}=true` });
      assert.ok(
        !jobs.items.some(
          (j) => j.metadata?.name === result.steps[0]!.backup!.object.name && !j.metadata?.deletionTimestamp,
        ),
      );
    },
  },
];

function signal(target: TargetRef, value: number) {
  const labels: Record<string, string> = {
    __name__: 'kubemedic_e2e_signal',
    [target.kind.toLowerCase()]: target.name,
  };
  if (target.namespace) labels.namespace = target.namespace;
  return remoteWrite([{ labels, value }]);
}

async function runToEnd(
  workflowId: string,
  previousRunId: string | undefined,
  lowerWhenVerifying: TargetRef | undefined,
) {
  const handle = await eventually('a new run', async () => {
    try {
      const described = await medic.client.workflow.getHandle(workflowId).describe();
      return described.runId !== previousRunId
        ? medic.client.workflow.getHandle<typeof remediation>(workflowId, described.runId)
        : undefined;
    } catch {
      return undefined;
    }
  });
  if (lowerWhenVerifying) {
    await eventually('the run to verify', async () =>
      (await handle.query(statusQuery)).phase === 'Verifying' ? true : undefined,
    );
    await signal(lowerWhenVerifying, 0);
  }
  return { result: await handle.result(), runId: (await handle.describe()).runId };
}

describe('every action, through a policy, a workflow and a rollback', () => {
  for (const testCase of cases) {
    it(
      `${testCase.type}: executes and verifies; a failed verification rolls it back exactly`,
      { timeout: 150_000 },
      async () => {
        // Given a target and a policy whose condition is the target's signal
        watcher ??= medic.startWatcher();
        await watcher;
        const name = `${testCase.type.toLowerCase()}-${randomBytes(2).toString('hex')}`;
        const target = await testCase.setup(name);
        const policyKind = testCase.policyKind ?? 'RemediationPolicy';
        const policy = { name, ...(policyKind === 'RemediationPolicy' ? { namespace: namespace.name } : {}) };
        await createPolicy(policyKind, policy, {
          target: { kind: target.kind, name: target.name },
          evaluationInterval: '1s',
          conditions: [
            {
              name: 'signal',
              source: 'Prometheus',
              prometheus: {
                query: `kubemedic_e2e_signal{${target.namespace ? `namespace="${target.namespace}",` : ''}${target.kind.toLowerCase()}="${target.name}"}`,
              },
              threshold: 0.5,
            },
          ],
          actions: [testCase.action(target)],
          verification: { settle: '2s' },
          cooldown: '1s',
        });
        const workflowId = remediationWorkflowId(medic.cluster, target, { kind: policyKind, ...policy });

        // When the signal goes high, then falls once the action is done
        await signal(target, 1);
        const first = await runToEnd(workflowId, undefined, target);
        // Then the run succeeded and the target shows the action
        assert.equal(first.result.outcome, 'Succeeded', first.result.reason);
        await testCase.executed(target, first.result);
        await saveHistory(medic.client, workflowId, `action-${testCase.type}-succeeded`);

        // When it goes high again and stays high
        await testCase.betweenRuns?.(target);
        await signal(target, 1);
        const second = await runToEnd(workflowId, first.runId, undefined);
        // Then the run is rolled back and the touched fields equal their backup exactly
        assert.equal(second.result.outcome, 'RolledBack', second.result.reason);
        if (testCase.rolledBack) {
          await testCase.rolledBack(target, second.result);
        } else {
          const { backup, rollback } = second.result.steps[0]!;
          assert.equal(rollback?.outcome, 'RolledBack', rollback?.reason);
          const now = await readObject({ kubeconfig: kubeconfig() }, backup!.object);
          assert.deepEqual(readFields(now, Object.keys(backup!.fields)), backup!.fields);
        }
        await signal(target, 0);
      },
    );
  }
});

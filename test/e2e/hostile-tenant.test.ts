/**
 * Issue 9's attacks, each played end to end by a tenant who may only write policies in their own
 * namespace: through the real API server, the real worker (under the chart's RBAC) and real runs.
 * Each test is the attack, then the proof that nothing outside the tenant's namespace changed:
 * the resourceVersion of every object in the victim's namespace is what it was before, no Job
 * or KubeMedic Event appeared there, and internal listeners heard nothing.
 *
 * Covered elsewhere, and not repeated here: a run forged straight into Temporal or into an
 * activity (test/integration/tenancy.test.ts), the alert receiver's authentication
 * (test/e2e/alertmanager.test.ts), approvals (RemediationDecision), sinks from Secrets.
 */
import {
  AppsV1Api,
  PatchStrategy,
  setHeaderOptions,
  AutoscalingV2Api,
  BatchV1Api,
  CoreV1Api,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type PolicySpec, type PolicyStatus, policyKinds } from '../../api/policy.ts';
import type { PolicyRef, RemediationResult, RemediationWorkflow } from '../../domain/run.ts';
import { startRemediation } from '../../policy-watcher/index.ts';
import {
  createPolicy,
  createUncheckedPolicy,
  readPolicy,
  startRunNow,
  useKubeMedic,
} from '../support/kubemedic.ts';
import { conditions, deploymentPolicy, type PolicySpecInput } from '../support/policy-builder.ts';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';
import { useTestNodes } from '../support/test-nodes.ts';
import { createAvailableDeployment, createHpa } from '../support/workloads.ts';
import { protectedLabel } from '../../domain/protection.ts';

const tenant = useTestNamespace('kmt-tenant');
const victim = useTestNamespace('kmt-victim');
const medic = useKubeMedic();
const nodes = useTestNodes('kmt-hostile');

/** A policy of the tenant on its Deployment `web`: one action, no approval, verification that passes. */
const tenantPolicy = (actions: PolicySpecInput['actions']): PolicySpecInput =>
  deploymentPolicy('web', { conditions: [conditions.podPending('pending')], actions });

/** Runs the tenant's policy `name` now, as the watcher would, and waits for its end. */
async function attack(name: string, actions: PolicySpecInput['actions']) {
  await createPolicy('RemediationPolicy', { name, namespace: tenant.name }, tenantPolicy(actions));
  const handle = await startRunNow(
    medic,
    { name, namespace: tenant.name },
    {
      kind: 'Deployment',
      namespace: tenant.name,
      name: 'web',
    },
  );
  return { handle, result: await handle.result() };
}

/**
 * A run of the tenant's policy `name` started straight into Temporal without the watcher's check,
 * as for a policy admitted before it: the worker's own checks are all that stand.
 */
async function forgedRun(name: string): Promise<RemediationResult> {
  const stored = await readPolicy('RemediationPolicy', { name, namespace: tenant.name });
  const { uid, generation } = stored.metadata;
  const ref: PolicyRef = { kind: 'RemediationPolicy', namespace: tenant.name, name, uid, generation };
  const spec = policyKinds.RemediationPolicy.spec.parse((stored as { spec?: unknown }).spec) as PolicySpec;
  const target = { kind: 'Deployment' as const, namespace: tenant.name, name: 'web' };
  const workflowId = await startRemediation(
    medic.client,
    medic.cluster,
    { ref, spec },
    target,
    [],
    new Date(),
  );
  return medic.client.workflow.getHandle<RemediationWorkflow>(workflowId).result();
}

/**
 * Every object in the victim's namespace a run could write, by kind/name → resourceVersion; and
 * the Events KubeMedic wrote there (the controllers' own Events come and go, and are not ours).
 */
async function victimState(): Promise<Record<string, string>> {
  const core = kubeconfig().makeApiClient(CoreV1Api);
  const apps = kubeconfig().makeApiClient(AppsV1Api);
  const namespace = victim.name;
  const lists: [string, Promise<KubernetesListObject<KubernetesObject>>][] = [
    ['Deployment', apps.listNamespacedDeployment({ namespace })],
    ['ReplicaSet', apps.listNamespacedReplicaSet({ namespace })],
    ['Pod', core.listNamespacedPod({ namespace })],
    [
      'HorizontalPodAutoscaler',
      kubeconfig().makeApiClient(AutoscalingV2Api).listNamespacedHorizontalPodAutoscaler({ namespace }),
    ],
    ['Job', kubeconfig().makeApiClient(BatchV1Api).listNamespacedJob({ namespace })],
    ['ConfigMap', core.listNamespacedConfigMap({ namespace })],
    ['Secret', core.listNamespacedSecret({ namespace })],
    ['ServiceAccount', core.listNamespacedServiceAccount({ namespace })],
  ];
  const state: Record<string, string> = {};
  for (const [kind, list] of lists)
    for (const object of (await list).items)
      state[`${kind}/${object.metadata?.name}`] = versionOf(kind, object);
  for (const event of (await core.listNamespacedEvent({ namespace })).items)
    if (event.source?.component === 'kubemedic' || event.reportingComponent === 'kubemedic')
      state[`Event/${event.metadata?.name}`] = event.message ?? '';
  return state;
}

/**
 * An object's resourceVersion; for an HPA, whose status the controller-manager rewrites on its own
 * schedule, its generation (every spec write bumps it) and who manages its spec (a write by
 * KubeMedic would add its field manager).
 */
function versionOf(kind: string, object: KubernetesObject): string {
  if (kind !== 'HorizontalPodAutoscaler') return object.metadata?.resourceVersion ?? '?';
  const managers = (object.metadata?.managedFields ?? [])
    .filter((field) => field.subresource !== 'status')
    .map((field) => field.manager)
    .sort();
  return `generation ${object.metadata?.generation}, spec managed by ${managers.join(' ')}`;
}

/** The victim's namespace must look exactly as it did before the attack. */
async function assertVictimUntouched(before: Record<string, string>) {
  assert.deepEqual(await victimState(), before, `nothing in ${victim.name} changed`);
}

/** A small internal service on loopback: it counts whoever reaches it. */
function internalService() {
  const heard: string[] = [];
  const server = createServer((request, response) => {
    heard.push(`${request.method} ${request.url}`);
    response.writeHead(200, { 'content-type': 'text/plain' }).end('db_password=internal-secret');
  });
  return { heard, server };
}

describe('a hostile tenant', () => {
  const internal = internalService();
  let hostile: Server;
  let base = '';
  let victimBefore: Record<string, string> = {};

  before(async () => {
    await createAvailableDeployment(tenant.name, 'web', 1);
    // The victim: a Deployment and its HPA named like the tenant's, a ConfigMap, a ServiceAccount that may edit.
    await createAvailableDeployment(victim.name, 'web', 1);
    await createHpa(victim.name, 'web', 'web', 1, 3);
    await kubeconfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({
        namespace: victim.name,
        body: { metadata: { name: 'settings' }, data: { a: '1' } },
      });
    await kubeconfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedServiceAccount({
        namespace: victim.name,
        body: { metadata: { name: 'victim-admin' } },
      });
    await new Promise<void>((resolve) => internal.server.listen(0, '127.0.0.1', resolve));
    const internalUrl = `http://127.0.0.1:${(internal.server.address() as AddressInfo).port}`;
    // The tenant's own endpoint: it redirects into the internal service, or fails with a secret in its answer.
    hostile = createServer((request, response) => {
      if (request.url === '/redirect') response.writeHead(302, { location: `${internalUrl}/steal` }).end();
      else response.writeHead(500, 'db_password=reason-secret').end('db_password=body-secret');
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
    victimBefore = await victimState();
    // The watcher marks what it can see is wrong before any run (the RunJob case).
    await medic.startWatcher();
  });
  after(() => {
    internal.server.close();
    hostile.close();
  });

  it('path traversal: an HPA name that climbs into the victim namespace is refused; a same-named HPA there is out of reach', async () => {
    // When the tenant names the victim's HPA by a path that leaves its namespace
    await assert.rejects(
      createUncheckedPolicy(
        'RemediationPolicy',
        { name: 'climb', namespace: tenant.name },
        tenantPolicy([
          {
            type: 'AdjustHPA',
            adjustHPA: {
              name: `../../${victim.name}/horizontalpodautoscalers/web`,
              minReplicas: 2,
              maxReplicas: 42,
            },
          },
        ]),
      ),
      (error: { code?: number; body?: unknown }) =>
        error.code === 422 && /adjustHPA\.name in body should match/.test(String(error.body)),
    );
    // And by the name it has in the victim's namespace, which the tenant's namespace lacks
    const { result } = await attack('same-name', [
      { type: 'AdjustHPA', adjustHPA: { name: 'web', minReplicas: 2, maxReplicas: 42 } },
    ]);
    // Then the run acts on nothing: there is no such HPA where the tenant may act
    assert.notEqual(result.outcome, 'Succeeded', result.reason);
    assert.match(
      result.reason,
      new RegExp(`no HorizontalPodAutoscaler named web in namespace ${tenant.name}`),
    );
    await assertVictimUntouched(victimBefore);
  });

  it('RunJob: a privileged host template is refused at admission, another identity by the watcher and at the create', async () => {
    // When the tenant asks for the host at admission
    await assert.rejects(
      createUncheckedPolicy(
        'RemediationPolicy',
        { name: 'host', namespace: tenant.name },
        tenantPolicy([
          {
            type: 'RunJob',
            runJob: {
              template: {
                template: {
                  spec: {
                    hostPID: true,
                    hostNetwork: true,
                    volumes: [{ name: 'root', hostPath: { path: '/' } }],
                    containers: [{ name: 'x', image: 'busybox', securityContext: { privileged: true } }],
                  },
                },
              },
            },
          },
        ]),
      ),
      (error: { code?: number; body?: unknown }) =>
        error.code === 422 && /hostPath volumes are not allowed/.test(String(error.body)),
    );
    // And, where CEL cannot see it, the victim's ServiceAccount, root and SYS_ADMIN
    await createPolicy(
      'RemediationPolicy',
      { name: 'identity', namespace: tenant.name },
      tenantPolicy([
        {
          type: 'RunJob',
          runJob: {
            timeout: '30s',
            template: {
              template: {
                spec: {
                  serviceAccountName: 'victim-admin',
                  restartPolicy: 'Never',
                  containers: [
                    {
                      name: 'x',
                      image: 'busybox',
                      securityContext: { runAsUser: 0, capabilities: { add: ['SYS_ADMIN'] } },
                    },
                  ],
                },
              },
            },
          },
        },
      ]),
    );
    // Then the watcher marks the policy Invalid, naming each field
    const invalid = await eventually('the watcher marks the policy Invalid', async () => {
      const status = (await readPolicy('RemediationPolicy', { name: 'identity', namespace: tenant.name }))
        .status as PolicyStatus | undefined;
      return status?.conditions?.find((c) => c.type === 'Invalid' && c.status === 'True')?.message;
    });
    assert.match(invalid, /serviceAccountName victim-admin is not the policy's own ServiceAccount/);
    assert.match(invalid, /runAsUser must not be 0/);
    assert.match(invalid, /not SYS_ADMIN/);
    // And a run forged as if the policy had been admitted before that check fails at the create
    const result = await forgedRun('identity');
    assert.equal(result.outcome, 'Failed', result.reason);
    assert.match(result.reason, /serviceAccountName/);
    const jobs = kubeconfig().makeApiClient(BatchV1Api);
    assert.deepEqual((await jobs.listNamespacedJob({ namespace: tenant.name })).items, []);
    await assertVictimUntouched(victimBefore);
  });

  it('SSRF: the metadata address is refused, a redirect into an internal service is not followed', async () => {
    // When the tenant's webhook calls the cloud metadata address
    const metadata = await attack('metadata', [
      {
        type: 'Webhook',
        webhook: { url: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' },
      },
    ]);
    // Then it is refused before any connection
    assert.equal(metadata.result.outcome, 'Failed', metadata.result.reason);
    assert.match(metadata.result.reason, /169\.254\.169\.254/);
    // When its endpoint redirects the worker into an internal service
    const redirect = await attack('redirect', [
      { type: 'Webhook', timeout: '10s', webhook: { url: `${base}/redirect` } },
    ]);
    // Then the redirect is a failure, and the internal service heard nothing
    assert.equal(redirect.result.outcome, 'Failed', redirect.result.reason);
    assert.deepEqual(internal.heard, []);
    await assertVictimUntouched(victimBefore);
  });

  it("secrets in history: an endpoint's answer (body and reason phrase) never reaches the run's history", async () => {
    // When the tenant's endpoint answers 500 with secrets in its body and its reason phrase
    const { handle, result } = await attack('leak', [
      { type: 'Webhook', timeout: '10s', webhook: { url: `${base}/leak` } },
    ]);
    // Then the run fails with the status alone, and nothing the endpoint said is in the history the tenant reads
    assert.equal(result.outcome, 'Failed', result.reason);
    assert.match(result.reason, /500/);
    const history = JSON.stringify(await handle.fetchHistory());
    assert.ok(history.length > 1000, 'the history was read');
    for (const secret of ['body-secret', 'reason-secret', 'db_password'])
      assert.ok(!history.includes(secret), `${secret} is not in the history`);
    await assertVictimUntouched(victimBefore);
  });
});

describe("an operator's drain", () => {
  const core = () => kubeconfig().makeApiClient(CoreV1Api);
  let node = '';
  /** One plain pod of the tenant, and one of each kind of protected pod, all on the drained node. */
  const pods = (): { namespace: string; name: string; labels: Record<string, string> }[] => [
    { namespace: tenant.name, name: 'plain', labels: {} },
    { namespace: tenant.name, name: 'labelled', labels: { [protectedLabel]: 'true' } },
    { namespace: 'kube-system', name: node, labels: {} },
    { namespace: victim.name, name: 'bystander', labels: {} },
  ];
  /** The protected pods' resourceVersions (undefined: gone). */
  const protectedPods = async () => {
    const versions: Record<string, string | undefined> = {};
    for (const pod of pods().slice(1))
      versions[`${pod.namespace}/${pod.name}`] = await core()
        .readNamespacedPod({ namespace: pod.namespace, name: pod.name })
        .then(
          (p) => (p.metadata?.deletionTimestamp ? 'deleting' : p.metadata?.resourceVersion),
          () => undefined,
        );
    return versions;
  };

  before(async () => {
    node = await nodes.create();
    await core().patchNamespace(
      { name: victim.name, body: { metadata: { labels: { [protectedLabel]: 'true' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    for (const pod of pods())
      await core().createNamespacedPod({
        namespace: pod.namespace,
        body: {
          metadata: { name: pod.name, labels: pod.labels },
          spec: { nodeName: node, containers: [{ name: 'app', image: 'example.com/app:1' }] },
        },
      });
    // KWOK runs them; only then are their resourceVersions what a drain could change.
    for (const pod of pods())
      await eventually(`${pod.namespace}/${pod.name} Running`, async () =>
        (await core().readNamespacedPod(pod)).status?.phase === 'Running' ? true : undefined,
      );
  });
  after(async () => {
    for (const pod of pods())
      await core()
        .deleteNamespacedPod({ namespace: pod.namespace, name: pod.name, gracePeriodSeconds: 0 })
        .catch(() => undefined);
  });

  it('evicts the plain pod and leaves every protected one as it was (kube-system, labelled, protected namespace)', async () => {
    const before = await protectedPods();
    // When a cluster policy drains the node
    const policy = { name: `drain-${node}` };
    await createPolicy('ClusterRemediationPolicy', policy, {
      target: { kind: 'Node', name: node },
      conditions: [
        {
          name: 'notready',
          source: 'Kubernetes',
          kubernetes: { state: 'NodeNotReady' },
          operator: '>=',
          threshold: 1,
        },
      ],
      actions: [{ type: 'DrainNode', drainNode: { timeout: '60s' } }],
      verification: { settle: '1s' },
      cooldown: '1s',
    });
    const handle = await startRunNow(medic, policy, { kind: 'Node', name: node });
    const result = await handle.result();
    // Then the plain pod is gone, and each protected pod is untouched
    assert.equal(result.outcome, 'Succeeded', result.reason);
    await eventually('the plain pod evicted', async () =>
      (await core()
        .readNamespacedPod({ namespace: tenant.name, name: 'plain' })
        .then(
          (p) => p.metadata?.deletionTimestamp !== undefined,
          () => true,
        ))
        ? true
        : undefined,
    );
    assert.deepEqual(await protectedPods(), before);
  });
});

/**
 * Issue 9's path traversal and hostile Job, on the real API server: a tenant's policy names its HPA
 * `../../<victim-ns>/horizontalpodautoscalers/web`, hoping the worker patches the victim's HPA.
 * The CRD refuses such a name (422); a policy admitted before that rule, or a run forged with a
 * backup that names the victim's HPA, meets the guard every write goes through, and the victim's
 * HPA keeps its bounds. A run started straight into Temporal that claims a policy the API server
 * does not hold as claimed (another kind, namespace or uid) is refused before it writes anything.
 */
import { AutoscalingV2Api, CustomObjectsApi } from '@kubernetes/client-node';
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Action } from '../../api/policy.ts';
import { group, version } from '../../api/index.ts';
import { installCrds } from '../../devstack/crds.ts';
import { ActionError, type ObjectRef, type TargetRef } from '../../domain/actions.ts';
import { policyLabel } from '../../domain/run.ts';
import { defaultProtectedNamespaces } from '../../domain/protection.ts';
import { failedWith, kubeFailureOf } from '../../domain/kube/errors.ts';
import { adjustHPA } from '../../activities/actions/adjust-hpa.ts';
import { createRemediationActivities } from '../../activities/remediation.ts';
import { makeBackup } from '../../activities/actions/fields.ts';
import type { ActionContext } from '../../activities/actions/action.ts';
import { kubeconfig, useTestNamespace } from '../support/stack.ts';
import { actionContext, createDeployment, createHpa } from '../support/workloads.ts';
import { createPolicy, readPolicy, useKubeMedic } from '../support/kubemedic.ts';
import { conditions, deploymentPolicy, scale } from '../support/policy-builder.ts';
import { checkPolicy, startRemediation } from '../../policy-watcher/index.ts';
import type { PolicyObject } from '../../policy-watcher/policies.ts';
import type { PolicyRef, RemediationResult } from '../../domain/run.ts';
import { metricsRegistry } from '../../activities/index.ts';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';

// KubeMedic's hooks before the namespaces': its worker stops before they are deleted.
const medic = useKubeMedic();
const tenant = useTestNamespace('kmt-tenant');
const victim = useTestNamespace('kmt-victim');

const traversal = () => `../../${victim.name}/horizontalpodautoscalers/web`;
const adjust = (name?: string): Action => ({
  type: 'AdjustHPA',
  adjustHPA: { ...(name ? { name } : {}), minReplicas: 2, maxReplicas: 42 },
});

/** The tenant's run: a RemediationPolicy of the tenant's namespace. */
const tenantRun = (): ActionContext => ({
  ...actionContext(),
  scope: {
    policy: { kind: 'RemediationPolicy', namespace: tenant.name, name: 'hostile' },
    protectedNamespaces: defaultProtectedNamespaces,
  },
});

const victimHpa = (): ObjectRef => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  namespace: victim.name,
  name: 'web',
});

async function victimBounds() {
  const hpa = await kubeconfig()
    .makeApiClient(AutoscalingV2Api)
    .readNamespacedHorizontalPodAutoscaler({ namespace: victim.name, name: 'web' });
  return { min: hpa.spec?.minReplicas, max: hpa.spec?.maxReplicas };
}

const outOfNamespace = (error: unknown) =>
  error instanceof ActionError &&
  error.type === 'Forbidden' &&
  error.message.includes(`may act only in namespace ${tenant.name}`);

/** The API server's message refusing a RemediationPolicy of the tenant with this action (422). */
async function refusedAtAdmission(action: Action): Promise<string> {
  const body = {
    apiVersion: `${group}/${version}`,
    kind: 'RemediationPolicy',
    metadata: { name: 'hostile' },
    spec: {
      target: { kind: 'Deployment', name: 'web' },
      conditions: [
        {
          name: 'cpu',
          source: 'Prometheus',
          prometheus: { shorthand: 'CPU', against: 'Requests' },
          threshold: 0.9,
          for: '5m',
        },
      ],
      actions: [action],
    },
  };
  const refused = await kubeconfig()
    .makeApiClient(CustomObjectsApi)
    .createNamespacedCustomObject({
      group,
      version,
      namespace: tenant.name,
      plural: 'remediationpolicies',
      body,
    })
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  assert.ok(failedWith(refused, 422), `expected 422, got ${String(refused)}`);
  return kubeFailureOf(refused)?.message ?? '';
}

/** Issue 9's Job: privileged, on the host's PID and network namespaces, the host's root mounted, on a chosen node. */
const hostileJob: Action = {
  type: 'RunJob',
  runJob: {
    template: {
      template: {
        spec: {
          restartPolicy: 'Never',
          hostPID: true,
          hostNetwork: true,
          nodeName: 'control-plane',
          volumes: [{ name: 'root', hostPath: { path: '/' } }],
          containers: [{ name: 'own', image: 'busybox:1.36', securityContext: { privileged: true } }],
        },
      },
    },
    timeout: '1m',
  },
};

describe('a tenant reaching into another namespace', () => {
  const target = (): TargetRef => ({ kind: 'Deployment', namespace: tenant.name, name: 'web' });

  /** The tenant's real policy 'hostile', as the API server stored it (its uid is what a run must carry). */
  let hostile: PolicyRef;

  before(async () => {
    await installCrds(kubeconfig());
    // Both namespaces have a Deployment web; only the victim's has an HPA (1..3)
    await createDeployment(tenant.name, 'web', 1);
    await createDeployment(victim.name, 'web', 1);
    await createHpa(victim.name, 'web', 'web', 1, 3);
    await createPolicy(
      'RemediationPolicy',
      { name: 'hostile', namespace: tenant.name },
      deploymentPolicy('web', {
        conditions: [conditions.podPending('pending')],
        actions: [scale({ replicas: 5 })],
      }),
    );
    const stored = await readPolicy('RemediationPolicy', { name: 'hostile', namespace: tenant.name });
    hostile = {
      kind: 'RemediationPolicy',
      namespace: tenant.name,
      name: 'hostile',
      uid: stored.metadata.uid,
      generation: stored.metadata.generation,
    };
  });

  it('is refused at admission: a name that is not DNS-1123 is Invalid (422)', async () => {
    // When the tenant creates the hostile policy of the issue
    const message = await refusedAtAdmission(adjust(traversal()));
    // Then the API server refuses it for that name alone (the CRD holds names to DNS-1123)
    assert.match(
      message,
      /^RemediationPolicy\S* "hostile" is invalid: spec\.actions\[0\]\.adjustHPA\.name: .* should match/,
    );
  });

  it('a hostile RunJob template is refused at admission, each forbidden field by its rule', async () => {
    // When the tenant creates a policy whose Job would run privileged on the host
    const message = await refusedAtAdmission(hostileJob);
    // Then the API server refuses it, saying why
    for (const rule of [
      'hostNetwork, hostPID and hostIPC are not allowed',
      'nodeName is not allowed',
      'hostPath volumes are not allowed',
      'privileged containers and allowPrivilegeEscalation are not allowed',
    ])
      assert.ok(message.includes(rule), `says ${rule}: ${message}`);
  });

  it('admitted before the rule: the encoded name finds nothing, and the victim keeps its bounds', async () => {
    // When the run of a policy admitted before the rule backs up with the traversal name
    await assert.rejects(adjustHPA.backup(tenantRun(), target(), adjust(traversal())), (error: unknown) => {
      // Then the name is one path segment in the tenant's namespace: no such HPA
      assert.ok(error instanceof ActionError && error.type === 'NotApplicable', String(error));
      return true;
    });
    assert.deepEqual(await victimBounds(), { min: 1, max: 3 });
  });

  it('forged: a backup naming the victim HPA is refused at the write and at the restore', async () => {
    // Given a backup as a path traversal would have made it: the victim's HPA as its object
    const forged = makeBackup({
      target: target(),
      action: 'AdjustHPA',
      object: victimHpa(),
      resourceVersion: '',
      fields: { '/spec/minReplicas': 5, '/spec/maxReplicas': 50 },
    });
    // When the tenant's run executes it, then rolls it back
    await assert.rejects(adjustHPA.execute(tenantRun(), target(), adjust(), forged), outOfNamespace);
    const executed = {
      written: { '/spec/minReplicas': 1, '/spec/maxReplicas': 3 },
      changes: [],
      summary: '',
    };
    await assert.rejects(adjustHPA.rollback(tenantRun(), forged, executed, adjust()), outOfNamespace);
    // Then nothing outside the tenant's namespace changed
    assert.deepEqual(await victimBounds(), { min: 1, max: 3 });
  });

  it("forged straight into the activity: the run's policy reaches the guard, and the write is refused", async () => {
    // Given the worker's activities, and an execute input as a forged run would send it: the
    // tenant's policy and target, and a backup that names the victim's HPA
    const activities = createRemediationActivities({ kubeconfig: kubeconfig(), prometheusUrl: undefined });
    const backup = makeBackup({
      target: target(),
      action: 'AdjustHPA',
      object: victimHpa(),
      resourceVersion: '',
      fields: { '/spec/minReplicas': 1, '/spec/maxReplicas': 3 },
    });
    const input = {
      policy: hostile,
      target: target(),
      action: adjust(),
      dryRun: false,
      backup,
    };
    // When the activity runs it
    const environment = new MockActivityEnvironment();
    await assert.rejects(environment.run(activities.executeAction, input), (error: unknown) => {
      // Then it fails for good, saying the policy may act only in its namespace
      assert.ok(error instanceof ApplicationFailure && error.nonRetryable, String(error));
      assert.equal(error.type, 'Forbidden');
      assert.match(error.message, new RegExp(`may act only in namespace ${tenant.name}`));
      return true;
    });
    // And the victim's HPA keeps its bounds
    assert.deepEqual(await victimBounds(), { min: 1, max: 3 });
  });

  it("a cluster policy's run is still held to the HPA scaling its target", async () => {
    // Given a backup naming the victim's HPA while the target is the tenant's Deployment
    const forged = makeBackup({
      target: target(),
      action: 'AdjustHPA',
      object: victimHpa(),
      resourceVersion: '',
      fields: { '/spec/minReplicas': 1, '/spec/maxReplicas': 3 },
    });
    // When a run without the namespace bound executes it
    await assert.rejects(adjustHPA.execute(actionContext(), target(), adjust(), forged), (error: unknown) => {
      // Then the guard sees that this HPA does not scale the target
      assert.ok(error instanceof ActionError && error.type === 'Forbidden', String(error));
      assert.match(error.message, /does not scale Deployment/);
      return true;
    });
    assert.deepEqual(await victimBounds(), { min: 1, max: 3 });
  });

  /**
   * A run started straight into Temporal (as anyone with access to the task queue could), for the
   * tenant's policy's name but claiming `claim`, aimed at `aim`. Returns its result.
   */
  async function forgedRun(claim: Partial<PolicyRef>, aim: TargetRef): Promise<RemediationResult> {
    const stored = await readPolicy('RemediationPolicy', { name: 'hostile', namespace: tenant.name });
    const check = checkPolicy('RemediationPolicy', stored as PolicyObject);
    assert.ok(check.valid, 'the tenant policy is valid');
    const policy = { ...check.policy, ref: { ...hostile, ...claim } };
    const workflowId = await startRemediation(medic.client, medic.cluster, policy, aim, [], new Date());
    return medic.client.workflow.getHandle(workflowId).result() as Promise<RemediationResult>;
  }

  /** Events KubeMedic wrote in a namespace. */
  async function kubemedicEvents(namespace: string) {
    const events = await kubeconfig().makeApiClient(CoreV1Api).listNamespacedEvent({ namespace });
    return events.items.filter(
      (e) => e.source?.component === 'kubemedic' || e.reportingComponent === 'kubemedic',
    );
  }

  /** The skips the worker counted for this policy label and reason. */
  async function skipped(policy: string, reason: string): Promise<number> {
    const metric = await metricsRegistry.getSingleMetric('kubemedic_remediation_skips_total')?.get();
    return metric?.values.find((v) => v.labels.policy === policy && v.labels.reason === reason)?.value ?? 0;
  }

  const victimWeb = (): TargetRef => ({ kind: 'Deployment', namespace: victim.name, name: 'web' });

  for (const [forgery, claim, aim, refusal] of [
    [
      'a cluster policy of the same name',
      () => ({ kind: 'ClusterRemediationPolicy' as const, namespace: undefined }),
      victimWeb,
      /^PolicyGone: ClusterRemediationPolicy hostile is not on the API server/,
    ],
    [
      "the victim's namespace",
      () => ({ namespace: victim.name }),
      victimWeb,
      /^PolicyGone: RemediationPolicy kmt-victim-\w+\/hostile is not on the API server/,
    ],
    [
      'a wrong uid',
      () => ({ uid: 'u' }),
      target,
      /^PolicyMismatch: RemediationPolicy kmt-tenant-\w+\/hostile has uid [-0-9a-f]{36}, not the run's u/,
    ],
    [
      "the tenant's real policy, aimed at the victim's Deployment",
      () => ({}),
      victimWeb,
      /^PolicyMismatch: RemediationPolicy kmt-tenant-\w+\/hostile may act only in namespace kmt-tenant-\w+, not on Deployment kmt-victim-\w+\/web/,
    ],
  ] as const) {
    it(
      `a run forged into Temporal claiming ${forgery} is refused, and writes nothing anywhere`,
      { timeout: 60_000 },
      async () => {
        // Given the tenant's real policy, and a run started straight into Temporal that claims it differently
        const claimed = { ...hostile, ...claim() };
        const already = await skipped(policyLabel(claimed), refusal.source.slice(1).split(':')[0]!);
        // When the worker runs it
        const result = await forgedRun(claim(), aim());
        // Then it ends Skipped at its first step, the reason in its result (the history) and the metric
        assert.equal(result.outcome, 'Skipped', result.reason);
        assert.match(result.reason, refusal);
        assert.deepEqual(result.steps, [], 'no step was taken');
        assert.equal(
          await skipped(policyLabel(claimed), refusal.source.slice(1).split(':')[0]!),
          already + 1,
        );
        // And nothing was written: no Event in either namespace, no outcome in the policy's status,
        // both Deployments as they were
        assert.deepEqual(await kubemedicEvents(victim.name), []);
        assert.deepEqual(await kubemedicEvents(tenant.name), []);
        const status = (await readPolicy('RemediationPolicy', { name: 'hostile', namespace: tenant.name }))
          .status;
        assert.equal(status?.lastOutcome, undefined);
        for (const namespace of [tenant.name, victim.name]) {
          const web = await kubeconfig()
            .makeApiClient(AppsV1Api)
            .readNamespacedDeployment({ namespace, name: 'web' });
          assert.equal(web.spec?.replicas, 1, `${namespace}/web keeps its replicas`);
        }
      },
    );
  }
});

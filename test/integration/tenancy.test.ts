/**
 * Issue 9's path traversal and hostile Job, on the real API server: a tenant's policy names its HPA
 * `../../<victim-ns>/horizontalpodautoscalers/web`, hoping the worker patches the victim's HPA.
 * The CRD refuses such a name (422); a policy admitted before that rule, or a run forged with a
 * backup that names the victim's HPA, meets the guard every write goes through, and the victim's
 * HPA keeps its bounds.
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
import { defaultProtectedNamespaces } from '../../domain/protection.ts';
import { failedWith, kubeFailureOf } from '../../domain/kube/errors.ts';
import { adjustHPA } from '../../activities/actions/adjust-hpa.ts';
import { createRemediationActivities } from '../../activities/remediation.ts';
import { makeBackup } from '../../activities/actions/fields.ts';
import type { ActionContext } from '../../activities/actions/action.ts';
import { kubeconfig, useTestNamespace } from '../support/stack.ts';
import { actionContext, createDeployment, createHpa } from '../support/workloads.ts';

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

  before(async () => {
    await installCrds(kubeconfig());
    // Both namespaces have a Deployment web; only the victim's has an HPA (1..3)
    await createDeployment(tenant.name, 'web', 1);
    await createDeployment(victim.name, 'web', 1);
    await createHpa(victim.name, 'web', 'web', 1, 3);
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
      policy: {
        kind: 'RemediationPolicy' as const,
        namespace: tenant.name,
        name: 'hostile',
        uid: 'u',
        generation: 1,
      },
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
});

/**
 * The workload actions on the real API server, KWOK running their pods: Scale, RolloutRestart,
 * RollbackDeployment, UpdateResources and RestartPod each execute, roll back to exactly the
 * backed-up fields, and are idempotent; Scale also honours dry run and refuses to roll back over
 * someone else's change.
 */
import { AppsV1Api, CoreV1Api, PolicyV1Api, type V1Container, type V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Action } from '../../api/policy.ts';
import { ActionError, type Backup, type TargetRef } from '../../domain/actions.ts';
import { makeBackup, readFields, readObject, readPointer } from '../../activities/actions/fields.ts';
import { restartPod } from '../../activities/actions/restart-pod.ts';
import { rollbackDeployment } from '../../activities/actions/rollback-deployment.ts';
import { rolloutRestart } from '../../activities/actions/rollout-restart.ts';
import { scale } from '../../activities/actions/scale.ts';
import { updateResources } from '../../activities/actions/update-resources.ts';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';
import { chartIdentities } from '../support/chart.ts';
import { actionContext, createDeployment as createWorkload } from '../support/workloads.ts';

const namespace = useTestNamespace('kmt-actions');

const context = (dryRun = false) => actionContext(dryRun);
const apps = () => kubeconfig().makeApiClient(AppsV1Api);
const core = () => kubeconfig().makeApiClient(CoreV1Api);
const target = (kind: TargetRef['kind'], name: string): TargetRef => ({
  kind,
  namespace: namespace.name,
  name,
});

const nginx = (image = 'nginx:1.27'): V1Container => ({ name: 'web', image });

async function createDeployment(name: string, replicas: number, containers = [nginx()]): Promise<void> {
  await createWorkload(namespace.name, name, replicas, { containers });
  await runningPods(name, replicas);
}

async function createStatefulSet(name: string, replicas: number, containers = [nginx()]): Promise<void> {
  const labels = { app: name };
  await apps().createNamespacedStatefulSet({
    namespace: namespace.name,
    body: {
      metadata: { name },
      spec: {
        replicas,
        serviceName: name,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers } },
      },
    },
  });
  await runningPods(name, replicas);
}

/** Waits until exactly `count` pods of the app are Running and none is terminating. */
function runningPods(app: string, count: number): Promise<V1Pod[]> {
  return eventually(`${count} Running pods of ${app}`, async () => {
    const list = await core().listNamespacedPod({ namespace: namespace.name, labelSelector: `app=${app}` });
    const live = list.items.filter((p) => !p.metadata?.deletionTimestamp);
    const running = live.filter((p) => p.status?.phase === 'Running');
    return running.length === count && live.length === count ? running : undefined;
  });
}

/** The backed-up fields as they are on the server now. */
async function liveFields(backup: Backup) {
  return readFields(await readObject(context(), backup.object), Object.keys(backup.fields));
}

const replicasOf = async (kind: 'Deployment' | 'StatefulSet', name: string) =>
  (kind === 'Deployment'
    ? await apps().readNamespacedDeployment({ namespace: namespace.name, name })
    : await apps().readNamespacedStatefulSet({ namespace: namespace.name, name })
  ).spec?.replicas;

const isActionError = (type: ActionError['type'], text: string) => (error: unknown) =>
  error instanceof ActionError && error.type === type && error.message.includes(text);

describe('Scale', () => {
  const double: Action = { type: 'Scale', scale: { factor: 2, maxFactor: 2 } };

  it('doubles a Deployment, stays doubled when executed twice, and rolls back to the backup', async () => {
    // Given a Deployment of 2 Running replicas and a backup of it
    await createDeployment('scale-web', 2);
    const web = target('Deployment', 'scale-web');
    const backup = await scale.backup(context(), web, double);
    assert.deepEqual(backup.fields, { '/spec/replicas': 2 });
    assert.deepEqual(backup.object, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: namespace.name,
      name: 'scale-web',
    });

    // When Scale by factor 2 executes, and executes again as a retry would
    const first = await scale.execute(context(), web, double, backup);
    const second = await scale.execute(context(), web, double, backup);

    // Then the Deployment has 4 replicas (not 8) running, and both results say so
    assert.equal(await replicasOf('Deployment', 'scale-web'), 4);
    await runningPods('scale-web', 4);
    assert.deepEqual(first.written, { '/spec/replicas': 4 });
    assert.deepEqual(second, first);
    assert.deepEqual(first.changes, [{ path: '/spec/replicas', before: 2, after: 4 }]);
    assert.equal(
      first.summary,
      `scaled Deployment ${namespace.name}/scale-web from 2 to 4 replicas (factor 2)`,
    );

    // When it is rolled back
    const rolledBack = await scale.rollback(context(), backup, first, double);

    // Then the replicas are exactly the backed-up value again
    assert.equal(rolledBack.outcome, 'RolledBack');
    assert.deepEqual(await liveFields(backup), backup.fields);
    await runningPods('scale-web', 2);
  });

  it('does not roll back over a change someone made after it: RollbackConflict, their 7 stays', async () => {
    // Given a Deployment scaled from 1 to 3 by KubeMedic
    await createDeployment('scale-conflict', 1);
    const action: Action = { type: 'Scale', scale: { replicas: 3, maxFactor: 10 } };
    const backup = await scale.backup(context(), target('Deployment', 'scale-conflict'), action);
    const result = await scale.execute(context(), target('Deployment', 'scale-conflict'), action, backup);
    assert.equal(await replicasOf('Deployment', 'scale-conflict'), 3);

    // When someone else sets the replicas to 7, and then KubeMedic rolls back
    await apps().replaceNamespacedDeploymentScale({
      namespace: namespace.name,
      name: 'scale-conflict',
      body: { metadata: { name: 'scale-conflict', namespace: namespace.name }, spec: { replicas: 7 } },
    });
    const rolledBack = await scale.rollback(context(), backup, result, action);

    // Then the rollback reports the conflict and leaves their 7 untouched
    assert.equal(rolledBack.outcome, 'RollbackConflict');
    assert.deepEqual(rolledBack.conflicts, [{ path: '/spec/replicas', wrote: 3, found: 7 }]);
    assert.equal(await replicasOf('Deployment', 'scale-conflict'), 7);
  });

  it('in a dry run changes nothing on the server but reports the change', async () => {
    // Given a Deployment of 2 replicas
    await createDeployment('scale-dry', 2);
    const web = target('Deployment', 'scale-dry');
    const backup = await scale.backup(context(true), web, double);
    // The generation moves only when the spec changes (controllers keep writing the status).
    const { generation } = (await readObject(context(), backup.object)).metadata as { generation: number };

    // When Scale by factor 2 executes as a dry run
    const result = await scale.execute(context(true), web, double, backup);

    // Then the change is reported, and the server still has 2 replicas and the same spec generation
    assert.deepEqual(result.changes, [{ path: '/spec/replicas', before: 2, after: 4 }]);
    assert.match(result.summary, /^dry run, nothing persisted: would have scaled .* from 2 to 4 replicas/);
    const after = await apps().readNamespacedDeployment({ namespace: namespace.name, name: 'scale-dry' });
    assert.equal(after.spec?.replicas, 2);
    assert.equal(after.metadata?.generation, generation);
  });

  it('sets an absolute count on a StatefulSet, capped by maxReplicas, and rolls back', async () => {
    // Given a StatefulSet of 1 replica
    await createStatefulSet('scale-db', 1);
    const db = target('StatefulSet', 'scale-db');
    const action: Action = { type: 'Scale', scale: { replicas: 5, maxReplicas: 3, maxFactor: 10 } };
    const backup = await scale.backup(context(), db, action);

    // When Scale to 5 with maxReplicas 3 executes
    const result = await scale.execute(context(), db, action, backup);

    // Then the StatefulSet has 3 replicas, all Running
    assert.equal(await replicasOf('StatefulSet', 'scale-db'), 3);
    assert.match(result.summary, /from 1 to 3 replicas \(capped at maxReplicas 3\)$/);
    await runningPods('scale-db', 3);

    // And a rollback brings back exactly the backed-up 1
    assert.equal((await scale.rollback(context(), backup, result, action)).outcome, 'RolledBack');
    assert.deepEqual(await liveFields(backup), backup.fields);
  });

  it('refuses to back up a Deployment that does not exist: TargetGone', async () => {
    // Given no Deployment named "missing"; When it is backed up; Then TargetGone
    await assert.rejects(
      scale.backup(context(), target('Deployment', 'missing'), double),
      isActionError('TargetGone', `Deployment ${namespace.name}/missing no longer exists`),
    );
  });
});

describe('RolloutRestart', () => {
  const action: Action = { type: 'RolloutRestart' };
  const pointer = '/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt';

  it('stamps the pod template with the backup time once, starting one rollout, and rolls back', async () => {
    // Given a Deployment of 2 Running replicas, never restarted
    await createDeployment('restart-web', 2);
    const web = target('Deployment', 'restart-web');
    const backup = await rolloutRestart.backup(context(), web, action);
    assert.deepEqual(backup.fields, { [pointer]: null });

    // When RolloutRestart executes
    const result = await rolloutRestart.execute(context(), web, action, backup);

    // Then the template carries restartedAt = the backup's capturedAt, and new pods roll out
    assert.deepEqual(result.written, { [pointer]: backup.capturedAt });
    assert.deepEqual(await liveFields(backup), { [pointer]: backup.capturedAt });
    const generation = (
      await apps().readNamespacedDeployment({ namespace: namespace.name, name: 'restart-web' })
    ).metadata?.generation;
    const replicaSets = () =>
      apps().listNamespacedReplicaSet({ namespace: namespace.name, labelSelector: 'app=restart-web' });
    await eventually('a second ReplicaSet', async () =>
      (await replicaSets()).items.length === 2 ? true : undefined,
    );
    await eventually('2 Running pods restarted at the backup time', async () => {
      const pods = await runningPods('restart-web', 2);
      const stamp = (p: V1Pod) => p.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'];
      return pods.every((p) => stamp(p) === backup.capturedAt) ? true : undefined;
    });

    // When it executes again, as a retry would
    const again = await rolloutRestart.execute(context(), web, action, backup);

    // Then nothing changes: same value, same generation, no third rollout
    assert.deepEqual(again, result);
    const after = await apps().readNamespacedDeployment({ namespace: namespace.name, name: 'restart-web' });
    assert.equal(after.metadata?.generation, generation);

    // When it is rolled back, Then the annotation is gone again, exactly as backed up
    assert.equal((await rolloutRestart.rollback(context(), backup, result, action)).outcome, 'RolledBack');
    assert.deepEqual(await liveFields(backup), backup.fields);
  });

  it('restores the previous restartedAt of a StatefulSet restarted before', async () => {
    // Given a StatefulSet whose template already has a restartedAt annotation
    await createStatefulSet('restart-db', 1);
    await apps().patchNamespacedStatefulSet({
      namespace: namespace.name,
      name: 'restart-db',
      body: [
        {
          op: 'add',
          path: '/spec/template/metadata/annotations',
          value: { 'kubectl.kubernetes.io/restartedAt': 'earlier' },
        },
      ],
    });
    const db = target('StatefulSet', 'restart-db');
    const backup = await rolloutRestart.backup(context(), db, action);
    assert.deepEqual(backup.fields, { [pointer]: 'earlier' });

    // When RolloutRestart executes and is rolled back
    const result = await rolloutRestart.execute(context(), db, action, backup);
    assert.deepEqual(await liveFields(backup), { [pointer]: backup.capturedAt });
    await rolloutRestart.rollback(context(), backup, result, action);

    // Then the earlier value is back
    assert.deepEqual(await liveFields(backup), { [pointer]: 'earlier' });
  });
});

describe('RollbackDeployment', () => {
  const action: Action = { type: 'RollbackDeployment' };

  it('writes the previous revision template, stays there when executed twice, and rolls back', async () => {
    // Given a Deployment at revision 2 (nginx:1.28) after revision 1 (nginx:1.27)
    await createDeployment('undo-web', 2, [nginx('nginx:1.27')]);
    await apps().patchNamespacedDeployment({
      namespace: namespace.name,
      name: 'undo-web',
      body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'nginx:1.28' }],
    });
    await eventually('two ReplicaSets, revision 2 rolled out', async () => {
      const sets = await apps().listNamespacedReplicaSet({
        namespace: namespace.name,
        labelSelector: 'app=undo-web',
      });
      const revisions = sets.items.map(
        (rs) => rs.metadata?.annotations?.['deployment.kubernetes.io/revision'],
      );
      return revisions.sort().join() === '1,2' ? true : undefined;
    });
    await runningPodsWithImage('undo-web', 'nginx:1.28');
    const web = target('Deployment', 'undo-web');
    const backup = await rollbackDeployment.backup(context(), web, action);
    assert.equal(imageIn(backup.fields['/spec/template']), 'nginx:1.28');

    // When RollbackDeployment executes, and (after the controller renumbered the revisions) again
    const result = await rollbackDeployment.execute(context(), web, action, backup);
    await runningPodsWithImage('undo-web', 'nginx:1.27');
    const again = await rollbackDeployment.execute(context(), web, action, backup);

    // Then the template is revision 1's (nginx:1.27) both times, without the pod-template-hash label
    assert.deepEqual(again.written, result.written);
    const template = (await liveFields(backup))['/spec/template'];
    assert.equal(imageIn(template), 'nginx:1.27');
    assert.deepEqual((template as { metadata: unknown }).metadata, { labels: { app: 'undo-web' } });
    assert.match(
      result.summary,
      /^rolled back Deployment .*\/undo-web to the template of ReplicaSet undo-web-\w+ \(images nginx:1\.27\)$/,
    );

    // When it is rolled back, Then the template is exactly the backed-up one and nginx:1.28 runs again
    assert.equal(
      (await rollbackDeployment.rollback(context(), backup, result, action)).outcome,
      'RolledBack',
    );
    assert.deepEqual(await liveFields(backup), backup.fields);
    await runningPodsWithImage('undo-web', 'nginx:1.28');
  });

  it('refuses a Deployment with only one revision: NotApplicable', async () => {
    // Given a Deployment at its first revision
    await createDeployment('undo-new', 1);
    await eventually('the first ReplicaSet', async () => {
      const sets = await apps().listNamespacedReplicaSet({
        namespace: namespace.name,
        labelSelector: 'app=undo-new',
      });
      return sets.items.length === 1 ? true : undefined;
    });
    // When it is backed up for a rollback, Then it is refused with a clear reason
    await assert.rejects(
      rollbackDeployment.backup(context(), target('Deployment', 'undo-new'), action),
      isActionError(
        'NotApplicable',
        `Deployment ${namespace.name}/undo-new has no previous revision to roll back to (revisions: 1)`,
      ),
    );
  });
});

describe('UpdateResources', () => {
  const containers = (): V1Container[] => [
    { name: 'proxy', image: 'envoy:1.30' },
    { name: 'app', image: 'shop:2', resources: { requests: { cpu: '100m', memory: '64Mi' } } },
  ];
  const action: Action = {
    type: 'UpdateResources',
    updateResources: { container: 'app', requests: { cpu: '250m' }, limits: { memory: '256Mi' } },
  };
  const pointer = '/spec/template/spec/containers/1/resources';

  it('merges new requests and limits into one container of a StatefulSet, twice alike, and rolls back', async () => {
    // Given a StatefulSet whose second container "app" requests 100m CPU and 64Mi memory
    await createStatefulSet('resources-db', 1, containers());
    const db = target('StatefulSet', 'resources-db');
    const backup = await updateResources.backup(context(), db, action);
    assert.deepEqual(backup.fields, { [pointer]: { requests: { cpu: '100m', memory: '64Mi' } } });

    // When UpdateResources executes, and again as a retry would
    const result = await updateResources.execute(context(), db, action, backup);
    const again = await updateResources.execute(context(), db, action, backup);

    // Then "app" requests 250m CPU and 64Mi memory with a 256Mi memory limit; "proxy" is untouched
    const expected = { requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '256Mi' } };
    assert.deepEqual(result.written, { [pointer]: expected });
    assert.deepEqual(again, result);
    const live = await readObject(context(), backup.object);
    assert.deepEqual(readPointer(live, '/spec/template/spec/containers/0/resources'), {});
    assert.deepEqual(await liveFields(backup), { [pointer]: expected });

    // When it is rolled back, Then the resources are exactly the backed-up ones
    assert.equal((await updateResources.rollback(context(), backup, result, action)).outcome, 'RolledBack');
    assert.deepEqual(await liveFields(backup), backup.fields);
  });

  it('refuses a container the workload does not have, naming those it has: Invalid', async () => {
    // Given a Deployment with containers "proxy" and "app"
    await createDeployment('resources-web', 1, containers());
    const wrong: Action = {
      type: 'UpdateResources',
      updateResources: { container: 'worker', limits: { cpu: '1' } },
    };
    // When it is backed up for container "worker", Then it is refused
    await assert.rejects(
      updateResources.backup(context(), target('Deployment', 'resources-web'), wrong),
      isActionError(
        'Invalid',
        `container "worker" not found in Deployment ${namespace.name}/resources-web (containers: proxy, app)`,
      ),
    );
  });

  it('reports requests above limits as Invalid, with the API server message', async () => {
    // Given a backup of a Deployment's "app" container
    await createDeployment('resources-bad', 1, containers());
    const bad: Action = {
      type: 'UpdateResources',
      updateResources: { container: 'app', limits: { cpu: '50m' } },
    };
    const web = target('Deployment', 'resources-bad');
    const backup = await updateResources.backup(context(), web, bad);
    // When a CPU limit below its 100m request is written, Then the API server refuses it
    await assert.rejects(
      updateResources.execute(context(), web, bad, backup),
      isActionError('Invalid', 'must be less than or equal to cpu limit'),
    );
  });
});

describe('RestartPod', () => {
  const action: Action = { type: 'RestartPod' };

  it('deletes the oldest pod of a Deployment once, which the Deployment replaces; not reversible', async () => {
    // Given a Deployment whose first pod is older than its second
    await createDeployment('pod-web', 1);
    const [oldest] = await runningPods('pod-web', 1);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // creationTimestamp has second precision
    await apps().patchNamespacedDeploymentScale({
      namespace: namespace.name,
      name: 'pod-web',
      body: [{ op: 'replace', path: '/spec/replicas', value: 2 }],
    });
    const before = await runningPods('pod-web', 2);
    const web = target('Deployment', 'pod-web');
    const backup = await restartPod.backup(context(), web, action);
    assert.equal(backup.object.name, oldest?.metadata?.name);
    assert.deepEqual(backup.fields, { '/metadata/uid': oldest?.metadata?.uid });

    // When RestartPod executes, and again as a retry would
    const result = await restartPod.execute(context(), web, action, backup);
    await restartPod.execute(context(), web, action, backup);

    // Then only that pod is gone, the other is untouched, and a replacement runs
    const after = await runningPods('pod-web', 2);
    const uids = (pods: V1Pod[]) => pods.map((p) => p.metadata?.uid);
    const survivor = before.find((p) => p.metadata?.uid !== oldest?.metadata?.uid);
    assert.ok(!uids(after).includes(oldest?.metadata?.uid));
    assert.ok(uids(after).includes(survivor?.metadata?.uid));
    assert.deepEqual(result.changes, [{ path: '/metadata/uid', before: oldest?.metadata?.uid, after: null }]);

    // When it is rolled back, Then it says a deleted pod cannot come back
    const rolledBack = await restartPod.rollback(context(), backup, result, action);
    assert.equal(rolledBack.outcome, 'NotReversible');
    assert.equal(rolledBack.reason, 'a deleted pod cannot be restored; its controller recreates it');
  });

  it('deletes the pod of a StatefulSet with most restarts; a retry spares its same-named replacement', async () => {
    // Given a StatefulSet of 2 pods where the younger one, db-1, has restarted 3 times
    await createStatefulSet('db', 2);
    const restarted = (await runningPods('db', 2)).find((p) => p.metadata?.name === 'db-1');
    await core().patchNamespacedPodStatus({
      namespace: namespace.name,
      name: 'db-1',
      body: [{ op: 'replace', path: '/status/containerStatuses/0/restartCount', value: 3 }],
    });
    const backup = await restartPod.backup(context(), target('StatefulSet', 'db'), action);
    assert.equal(backup.object.name, 'db-1');

    // When RestartPod executes, the StatefulSet recreates db-1, and the execute is retried
    await restartPod.execute(context(), target('StatefulSet', 'db'), action, backup);
    const replacement = await eventually('a new db-1', async () => {
      const pod = (await runningPods('db', 2)).find((p) => p.metadata?.name === 'db-1');
      return pod?.metadata?.uid !== restarted?.metadata?.uid ? pod : undefined;
    });
    const retry = await restartPod.execute(context(), target('StatefulSet', 'db'), action, backup);

    // Then the retry reports the pod already gone and the replacement lives on
    assert.match(retry.summary, /it was already gone$/);
    const still = await core().readNamespacedPod({ namespace: namespace.name, name: 'db-1' });
    assert.equal(still.metadata?.uid, replacement.metadata?.uid);
    assert.equal(still.metadata?.deletionTimestamp, undefined);
  });

  it('refuses with DisruptionBudget, naming the budget, while a PodDisruptionBudget forbids evicting the pod', async () => {
    // Given a Deployment of one Running pod, and a PodDisruptionBudget that needs it
    await createDeployment('pod-guarded', 1);
    const [pod] = await runningPods('pod-guarded', 1);
    const policy = kubeconfig().makeApiClient(PolicyV1Api);
    await policy.createNamespacedPodDisruptionBudget({
      namespace: namespace.name,
      body: {
        metadata: { name: 'guarded-pdb' },
        spec: { minAvailable: 1, selector: { matchLabels: { app: 'pod-guarded' } } },
      },
    });
    await eventually('the PDB to count 1 healthy pod', async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({
        namespace: namespace.name,
        name: 'guarded-pdb',
      });
      return pdb.status?.currentHealthy === 1 && pdb.status.disruptionsAllowed === 0 ? true : undefined;
    });
    const guarded = target('Deployment', 'pod-guarded');
    const backup = await restartPod.backup(context(), guarded, action);

    // When RestartPod executes, Then it refuses, naming the pod and the budget with its numbers
    await assert.rejects(
      restartPod.execute(context(), guarded, action, backup),
      isActionError(
        'DisruptionBudget',
        `Pod ${namespace.name}/${pod?.metadata?.name} was not restarted: a PodDisruptionBudget forbids evicting it now ` +
          `(PodDisruptionBudget ${namespace.name}/guarded-pdb (needs 1 healthy, has 1, allows 0 disruptions))`,
      ),
    );
    // And the pod is still there, not terminating
    const still = await core().readNamespacedPod({
      namespace: namespace.name,
      name: pod?.metadata?.name ?? '',
    });
    assert.equal(still.metadata?.uid, pod?.metadata?.uid);
    assert.equal(still.metadata?.deletionTimestamp, undefined);
  });

  it("refuses a forged backup naming another workload's pod, evicting nothing", async () => {
    // Given two Deployments in the namespace, and a backup of RestartPod on the first that names
    // the second's pod (as a run forged through Temporal could)
    await createDeployment('pod-mine', 1);
    await createDeployment('pod-theirs', 1);
    const [theirs] = await runningPods('pod-theirs', 1);
    const mine = target('Deployment', 'pod-mine');
    const backup = await restartPod.backup(context(), mine, action);
    const forged = makeBackup({
      ...backup,
      object: { ...backup.object, name: theirs?.metadata?.name ?? '' },
      fields: { '/metadata/uid': theirs?.metadata?.uid ?? '' },
    });
    // When it executes, then the guard refuses: that pod is not one of the target's
    await assert.rejects(
      restartPod.execute(context(), mine, action, forged),
      isActionError('Forbidden', `it is not a pod of Deployment ${namespace.name}/pod-mine`),
    );
    // And their pod still runs
    const still = await core().readNamespacedPod({
      namespace: namespace.name,
      name: theirs?.metadata?.name ?? '',
    });
    assert.equal(still.metadata?.uid, theirs?.metadata?.uid);
    assert.equal(still.metadata?.deletionTimestamp, undefined);
    // And the real backup still restarts its own pod as the chart's worker identity, whose
    // rights (list, not get, on ReplicaSets) the ownership check must make do with
    const { worker } = await chartIdentities();
    const asWorker = { ...context(), kubeconfig: worker, ownKubeconfig: worker };
    const result = await restartPod.execute(asWorker, mine, action, backup);
    assert.match(result.summary, /^deleted Pod /);
  });

  it('in a dry run leaves a named Pod in place but reports its deletion', async () => {
    // Given a Running pod of a Deployment, targeted by name
    await createDeployment('pod-dry', 1);
    const [pod] = await runningPods('pod-dry', 1);
    const name = pod?.metadata?.name ?? '';
    const backup = await restartPod.backup(context(true), target('Pod', name), action);
    assert.deepEqual(backup.object, { apiVersion: 'v1', kind: 'Pod', namespace: namespace.name, name });

    // When RestartPod executes as a dry run
    const result = await restartPod.execute(context(true), target('Pod', name), action, backup);

    // Then the pod is still there, not terminating, and the deletion is reported
    const still = await core().readNamespacedPod({ namespace: namespace.name, name });
    assert.equal(still.metadata?.uid, pod?.metadata?.uid);
    assert.equal(still.metadata?.deletionTimestamp, undefined);
    assert.equal(
      result.summary,
      `dry run, nothing persisted: would have deleted Pod ${namespace.name}/${name} (uid ${pod?.metadata?.uid})`,
    );
  });
});

function imageIn(template: unknown): string | undefined {
  return (template as { spec?: { containers?: { image?: string }[] } }).spec?.containers?.[0]?.image;
}

/** Waits until every live pod of the app runs `image` (the rollout finished). */
function runningPodsWithImage(app: string, image: string): Promise<true> {
  return eventually(`pods of ${app} running ${image}`, async () => {
    const list = await core().listNamespacedPod({ namespace: namespace.name, labelSelector: `app=${app}` });
    const live = list.items.filter((p) => !p.metadata?.deletionTimestamp);
    const done =
      live.length > 0 &&
      live.every((p) => p.spec?.containers[0]?.image === image && p.status?.phase === 'Running');
    return done ? true : undefined;
  });
}

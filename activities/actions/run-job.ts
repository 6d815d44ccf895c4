/**
 * RunJob: run a batch/v1 Job from the policy's JobSpec in the target's namespace (a cache
 * flush, a database vacuum, a diagnostics dump) and wait until it completes or fails.
 *
 * The backup's `object` is the Job to be created, named once in the backup
 * (`kubemedic-<10 hex>`); the backup lives in the workflow history, so a retried execute
 * asks for the same name and finds the Job it already created (409) instead of running a
 * second one. Rollback deletes the Job; what the Job did is not undone.
 */
import { BatchV1Api, type V1Job, type V1JobSpec } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { asRefusal, failedWith } from '../../domain/kube/errors.ts';
import { type ActionContext, type ActionModule, deadlineOf, parametersOf, pause } from './action.ts';
import {
  ActionError,
  type Backup,
  type ExecuteResult,
  type ObjectRef,
  type RollbackResult,
  StepFailure,
} from '../../domain/actions.ts';
import { makeBackup, verifyBackup } from './fields.ts';
import { readTarget, resourceVersionOf } from './target.ts';
import { targetDisplay } from '../../domain/run.ts';
import { targetObject } from './workloads.ts';
import { guardWrite } from './write-guard.ts';
import { restrictedJobSpec } from '../../domain/pod-security.ts';

export const managedLabel = 'kubemedic.io/managed';
export const backupHashAnnotation = 'kubemedic.io/backup-hash';
const targetAnnotation = 'kubemedic.io/target';

const jobName = (ref: ObjectRef) => `${ref.namespace}/${ref.name}`;
const isTrue = (job: V1Job, type: string) =>
  job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
const ours = (job: V1Job, hash: string) => job.metadata?.annotations?.[backupHashAnnotation] === hash;
const notOurs = 'it was not created by this remediation';
const jobs = (ctx: ActionContext) => ctx.kubeconfig.makeApiClient(BatchV1Api);
const readJob = (ctx: ActionContext, ref: ObjectRef) =>
  jobs(ctx).readNamespacedJob({ name: ref.name, namespace: ref.namespace ?? '' });

/** Creates the Job, or finds the one an earlier attempt of this execute created. */
async function createOrReuse(ctx: ActionContext, body: V1Job, ref: ObjectRef, hash: string) {
  await guardWrite(ctx, ref, { owned: (object) => (ours(object as V1Job, hash) ? undefined : notOurs) });
  try {
    const created = await jobs(ctx).createNamespacedJob({
      namespace: ref.namespace ?? '',
      body,
      dryRun: ctx.dryRun ? 'All' : undefined,
    });
    return { job: created, reused: false };
  } catch (error) {
    // 400 or 422 is a template that makes no valid Job: Invalid, as asRefusal says.
    if (!failedWith(error, 409)) throw asRefusal(error, `Job ${jobName(ref)} from the runJob template`);
  }
  const existing = await readJob(ctx, ref);
  if (!ours(existing, hash))
    throw new ActionError(
      'Invalid',
      `a Job named ${jobName(ref)} already exists and was not created by this remediation; not touching it`,
    );
  return { job: existing, reused: true };
}

/**
 * Polls the Job until Complete (returned), or Failed or past the deadline: a failed step, whose
 * Job the rollback deletes. The deadline runs from the first attempt, so a retry does not
 * restart it; a cancelled run stops the wait.
 */
async function waitFinished(ctx: ActionContext, ref: ObjectRef, timeout: string): Promise<V1Job> {
  const deadline = deadlineOf(ctx, timeout);
  const ran: ExecuteResult = { written: {}, changes: [], summary: `created Job ${jobName(ref)}` };
  for (;;) {
    const job = await readJob(ctx, ref).catch((error: unknown) => {
      if (failedWith(error, 404)) throw new Error(`Job ${jobName(ref)} was deleted before it finished`);
      throw error;
    });
    if (isTrue(job, 'Complete')) return job;
    const failed = isTrue(job, 'Failed');
    if (failed) {
      throw new StepFailure(
        `Job ${jobName(ref)} failed: ${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''}`,
        ran,
      );
    }
    if (Date.now() >= deadline) {
      const s = job.status ?? {};
      throw new StepFailure(
        `Job ${jobName(ref)} did not finish within ${timeout} ` +
          `(active ${s.active ?? 0}, succeeded ${s.succeeded ?? 0}, failed ${s.failed ?? 0}); the rollback deletes it`,
        ran,
      );
    }
    ctx.heartbeat({ job: jobName(ref), active: job.status?.active ?? 0 });
    await pause(ctx, Math.min(1_000, Math.max(0, deadline - Date.now())));
  }
}

export const runJob: ActionModule = {
  type: 'RunJob',

  async backup(ctx, target, action): Promise<Backup> {
    parametersOf(action, 'runJob');
    const targetRef = targetObject(target);
    const object = await readTarget(ctx, targetRef);
    // Named here, once per remediation, so every execute attempt of this run uses the same name
    // and a later remediation of the same target runs a Job of its own.
    const name = `kubemedic-${randomBytes(5).toString('hex')}`;
    return makeBackup({
      target,
      action: 'RunJob',
      object: { apiVersion: 'batch/v1', kind: 'Job', namespace: targetRef.namespace, name },
      resourceVersion: resourceVersionOf(object),
      fields: {},
    });
  },

  async execute(ctx, target, action, backup) {
    const block = parametersOf(action, 'runJob');
    const ref = backup.object;
    const body: V1Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: ref.name,
        namespace: ref.namespace,
        labels: { [managedLabel]: 'true' },
        annotations: { [backupHashAnnotation]: backup.hash, [targetAnnotation]: targetDisplay(target) },
      },
      // The CRD keeps the template as written (preserve-unknown-fields): checked here before
      // every create, as policies admitted before the CRD's rules and forged runs skip those.
      spec: restrictedJobSpec(block.template as unknown as V1JobSpec, ctx.scope?.serviceAccountName),
    };
    const { reused } = await createOrReuse(ctx, body, ref, backup.hash);
    if (ctx.dryRun) {
      return {
        written: {},
        changes: [],
        summary: reused
          ? `dry run: Job ${jobName(ref)} already exists for this remediation`
          : `dry run: would create Job ${jobName(ref)} for ${targetDisplay(target)} and wait up to ${block.timeout}`,
      };
    }
    const started = Date.now();
    const finished = await waitFinished(ctx, ref, block.timeout ?? '10m');
    const seconds = Math.round((Date.now() - started) / 1000);
    return {
      written: {},
      changes: [],
      summary:
        `${reused ? 'found' : 'ran'} Job ${jobName(ref)} for ${targetDisplay(target)}: complete, ` +
        `${finished.status?.succeeded ?? 0} succeeded` +
        (reused ? '' : ` after ${seconds}s`),
    };
  },

  async rollback(ctx, backup): Promise<RollbackResult> {
    const none = { restored: {}, conflicts: [] };
    const ref = backup.object;
    if (!verifyBackup(backup))
      return {
        outcome: 'RollbackConflict',
        reason: 'the backup does not match its hash; refusing to delete the Job it names',
        ...none,
      };
    let job: V1Job;
    try {
      job = await readJob(ctx, ref);
    } catch (error) {
      if (failedWith(error, 404))
        return {
          outcome: 'NothingToRestore',
          reason: `Job ${jobName(ref)} is already gone; what the Job did is not undone`,
          ...none,
        };
      throw error;
    }
    if (!ours(job, backup.hash))
      return {
        outcome: 'RollbackConflict',
        reason: `Job ${jobName(ref)} was not created by this remediation; it is left alone`,
        ...none,
      };
    await guardWrite(ctx, ref);
    try {
      await jobs(ctx).deleteNamespacedJob({
        name: ref.name,
        namespace: ref.namespace ?? '',
        propagationPolicy: 'Background',
        dryRun: ctx.dryRun ? 'All' : undefined,
        // Delete exactly the Job read above, not one recreated under the same name since.
        body: { preconditions: { uid: job.metadata?.uid } },
      });
    } catch (error) {
      if (!failedWith(error, 404)) throw error;
    }
    return {
      outcome: 'RolledBack',
      reason: `${ctx.dryRun ? 'dry run: would delete' : 'deleted'} Job ${jobName(ref)}; what the Job did is not undone`,
      ...none,
    };
  },
};

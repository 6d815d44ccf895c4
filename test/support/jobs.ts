/** Driving Jobs on KWOK, where no container ever runs. */
import { kubeRequest } from '../../domain/kube/request.ts';
import { kubeconfig } from './stack.ts';

/** A Job whose spec.managedBy names this is left alone by the built-in Job controller. */
export const externalJobController = 'kubemedic.io/test-driver';

/**
 * Writes the terminal status a Job controller would write, through the /status subresource.
 * KWOK runs no containers; its default pod stages only fake a Job pod's success (Running →
 * Succeeded, exit 0). To drive a Job to Failed, or to Complete on our word, the test must be
 * the Job's controller: the Job names another one in `spec.managedBy`, so the built-in
 * controller creates no pods and writes no status, and the test writes it, as an external
 * controller (Kueue, say) would. The API server validates such a status strictly in 1.34
 * (JobManagedBy, beta and on by default):
 * - Complete=True needs SuccessCriteriaMet=True, a startTime, and a completionTime not
 *   before the startTime;
 * - Failed=True needs FailureTarget=True and a startTime, and must have no completionTime;
 * - a finished Job must have active=0, no terminating and no uncounted pods, ready ≤ active;
 * - a startTime, once set on an unsuspended Job, may not change; completionTime never.
 */
export async function finishJob(namespace: string, name: string, how: 'Complete' | 'Failed'): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string, reason: string, message: string) => ({
    type,
    status: 'True',
    reason,
    message,
    lastProbeTime: now,
    lastTransitionTime: now,
  });
  const done = 'Reached expected number of succeeded pods';
  const failed = 'Job has reached the specified backoff limit';
  const status =
    how === 'Complete'
      ? {
          conditions: [
            condition('SuccessCriteriaMet', 'CompletionsReached', done),
            condition('Complete', 'CompletionsReached', done),
          ],
          startTime: now,
          completionTime: now,
          succeeded: 1,
        }
      : {
          conditions: [
            condition('FailureTarget', 'BackoffLimitExceeded', failed),
            condition('Failed', 'BackoffLimitExceeded', failed),
          ],
          startTime: now,
          failed: 1,
        };
  await kubeRequest(kubeconfig(), {
    method: 'PATCH',
    path: `/apis/batch/v1/namespaces/${namespace}/jobs/${name}/status`,
    body: { status: { ...status, active: 0, ready: 0 } },
    contentType: 'application/merge-patch+json',
  });
}

/**
 * The notify activity: renders one notification for one sink, signs it when the sink names a
 * Secret, and POSTs it. A failed delivery throws so Temporal retries it with backoff; the
 * workflow gives up after its retries and goes on (a notification never decides a remediation).
 */
import { ApplicationFailure } from '@temporalio/activity';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { NotificationSink } from '../api/policy.ts';
import type { NotificationFacts, PolicyRef } from '../domain/run.ts';
import { policyLabel } from '../domain/run.ts';
import { callingRun } from './calling-run.ts';
import { failedWith } from '../domain/kube/errors.ts';
import { asServiceAccount } from '../domain/kube/impersonation.ts';
import { notificationsTotal } from './metrics.ts';
import { type NotificationContext, renderFor, webUiRunUrl } from './notify-payload.ts';
import { sign, signatureHeader, timestampHeader } from './notify-signature.ts';
import { type Answer, OutboundRefused, type OutboundRules, postChecked } from './outbound.ts';

export interface NotifyDependencies {
  kubeconfig: KubeConfig;
  /** Where a cluster policy's signing Secrets live: KubeMedic's own namespace. */
  ownNamespace: string;
  /** The Temporal Web UI's address, for a link to the run. */
  webUiUrl?: string;
  /** What sinks may reach (outbound.ts); without it the strict defaults (no loopback). */
  outbound?: OutboundRules;
}

export interface NotifyInput {
  sink: NotificationSink;
  facts: NotificationFacts;
  /** The policy's ServiceAccount: a namespaced policy's signing Secret is read as it. */
  serviceAccountName?: string;
}

/** Answers that a retry cannot change; 408 and 429 are worth retrying. */
const refusedStatus = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;
const requestTimeoutMs = 10_000;

export function createNotify(deps: NotifyDependencies) {
  return async function notify(input: NotifyInput): Promise<{ status: number }> {
    const { sink, facts } = input;
    const run = callingRun();
    const context: NotificationContext = {
      ...facts,
      workflowId: run.workflowId,
      runId: run.runId,
      webUiUrl: deps.webUiUrl
        ? webUiRunUrl(deps.webUiUrl, run.namespace, run.workflowId, run.runId)
        : undefined,
    };
    const body = renderFor(sink, context);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'kubemedic',
      'X-KubeMedic-Event': facts.event,
      'X-KubeMedic-Delivery': `${run.workflowId}/${run.runId}/${facts.event}`,
    };
    if (sink.secretRef) {
      const key = await signingKey(deps, facts.policy, sink.secretRef, input.serviceAccountName);
      const timestamp = String(Math.floor(Date.now() / 1000));
      headers[timestampHeader] = timestamp;
      headers[signatureHeader] = sign(key, timestamp, body);
    }
    // The URL may carry a token (Slack's do): messages name only its host.
    const host = new URL(sink.url).host;
    const counted = (result: 'delivered' | 'failed') =>
      notificationsTotal.inc({
        policy: policyLabel(facts.policy),
        event: facts.event,
        type: sink.type,
        result,
      });
    let response: Answer;
    try {
      // Under the outbound rules; the answer's body is dropped unread (outbound.ts).
      response = await postChecked(sink.url, {
        what: `notification to ${host}`,
        headers,
        body,
        timeoutMs: requestTimeoutMs,
        rules: deps.outbound ?? {},
        namespaced: facts.policy.namespace !== undefined,
      });
    } catch (error) {
      counted('failed');
      if (error instanceof OutboundRefused)
        throw ApplicationFailure.nonRetryable(error.message, 'NotificationRefused');
      throw new Error(`notification to ${host} was not delivered: ${String(error)}`, { cause: error });
    }
    if (response.status < 200 || response.status >= 300) {
      counted('failed');
      const message = `notification to ${host} answered ${response.status}`;
      if (refusedStatus(response.status))
        throw ApplicationFailure.nonRetryable(message, 'NotificationRefused');
      throw new Error(message);
    }
    counted('delivered');
    return { status: response.status };
  };
}

/**
 * The HMAC key: a Secret in the policy's namespace, read as the policy's ServiceAccount (so
 * KubeMedic needs no right to tenants' Secrets), or for a cluster policy in KubeMedic's own
 * namespace, read as KubeMedic (a cluster policy has no namespace, and tenants must not be able
 * to plant one).
 */
async function signingKey(
  deps: NotifyDependencies,
  policy: PolicyRef,
  ref: NonNullable<NotificationSink['secretRef']>,
  serviceAccountName: string | undefined,
): Promise<Buffer> {
  const namespace = policy.namespace ?? deps.ownNamespace;
  const where = `Secret ${namespace}/${ref.name}`;
  const unusable = (message: string, type: string) => ApplicationFailure.nonRetryable(message, type);
  let reader = deps.kubeconfig;
  if (policy.namespace !== undefined) {
    const impersonating =
      serviceAccountName && asServiceAccount(deps.kubeconfig, namespace, serviceAccountName);
    if (!impersonating) {
      throw unusable(
        `${where} is read as the policy's ServiceAccount, and the policy names none (spec.serviceAccountName)`,
        'SecretUnreadable',
      );
    }
    reader = impersonating;
  }
  const secret = await reader
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ name: ref.name, namespace })
    .catch((error: unknown) => {
      if (failedWith(error, 404))
        throw unusable(`${where} for the notification signature does not exist`, 'SecretMissing');
      if (failedWith(error, 403)) {
        const reading = policy.namespace ? `ServiceAccount ${namespace}/${serviceAccountName}` : 'KubeMedic';
        throw unusable(
          `${reading} may not get ${where} for the notification signature (grant it get on that Secret)`,
          'SecretUnreadable',
        );
      }
      throw error;
    });
  const value = secret.data?.[ref.key];
  if (value === undefined) {
    throw unusable(`${where} has no key ${ref.key} for the notification signature`, 'SecretMissing');
  }
  return Buffer.from(value, 'base64');
}

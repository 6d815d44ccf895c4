/**
 * The notification activities. `notify` renders one notification for one sink (a policy's, or
 * one of the cluster's default sinks named by the worker's configuration), reads what gives
 * access to it from its Secrets, signs it when a Webhook sink names a signing key, and POSTs it
 * under the outbound rules. A failed delivery throws so Temporal retries it with backoff; the
 * workflow gives up after its retries, says so (`recordNotificationFailed`) and goes on: a
 * notification never decides a remediation.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { KubeConfig } from '@kubernetes/client-node';
import { type NotificationEvent, type NotificationSink, pagerDutyEventsUrl } from '../api/policy.ts';
import type { NotificationFacts, PolicyRef, TargetRef } from '../domain/run.ts';
import { policyLabel, targetDisplay } from '../domain/run.ts';
import { policyObjectRef } from '../domain/kube/policy-status.ts';
import { recordEvent } from '../domain/kube/events.ts';
import { callingRun } from './calling-run.ts';
import { notificationsTotal } from './metrics.ts';
import { type NotificationContext, slackPayload, webhookPayload, webUiRunUrl } from './notify-payload.ts';
import { pagerDutyPayload, pagerDutyResolve } from './notify-pagerduty.ts';
import { sinkSecrets, type SinkSecrets } from './notify-secrets.ts';
import { sign, signatureHeader, timestampHeader } from './notify-signature.ts';
import { teamsPayload } from './notify-teams.ts';
import { type Answer, OutboundRefused, type OutboundRules, postChecked } from './outbound.ts';

/** A sink the operator configured for every policy (worker config KUBEMEDIC_DEFAULT_NOTIFICATIONS). */
export type DefaultSink = NotificationSink & { name: string };

export interface NotifyDependencies {
  kubeconfig: KubeConfig;
  /** Where a cluster policy's and the default sinks' Secrets live: KubeMedic's own namespace. */
  ownNamespace: string;
  /** The Temporal Web UI's address, for a link to the run. */
  webUiUrl?: string;
  /** What sinks may reach (outbound.ts); without it the strict defaults (no loopback). */
  outbound?: OutboundRules;
  /** The cluster's default sinks. */
  defaultSinks?: readonly DefaultSink[];
}

/** One sink: a policy's own (its Secrets' names only), or a default sink by its name. */
export type SinkChoice = { sink: NotificationSink } | { defaultSink: string };

export type NotifyInput = SinkChoice & {
  facts: NotificationFacts;
  /** The policy's ServiceAccount: a namespaced policy's sink Secrets are read as it. */
  serviceAccountName?: string;
  /**
   * PagerDuty sinks only: close the run's alert whatever `facts.event` is (a run a person
   * rejected or cancelled ends without an event sinks hear of, and must not leave it open).
   */
  resolve?: boolean;
};

/** What the workflow learns of the default sinks: enough to choose, nothing secret. */
export interface DefaultSinkSummary {
  name: string;
  type: NotificationSink['type'];
  events?: NotificationEvent[];
}

export interface NotificationFailedInput {
  policy: PolicyRef;
  target: TargetRef;
  /** How the sink is named for people (sinkLabel). */
  sink: string;
  event: NotificationEvent;
  reason: string;
}

/** Answers that a retry cannot change; 408 and 429 are worth retrying. */
const refusedStatus = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;
const requestTimeoutMs = 10_000;

export function createNotificationActivities(deps: NotifyDependencies) {
  return {
    notify: createNotify(deps),

    /** The default sinks, for a run to notify one by one (each delivery retried on its own). */
    async notificationDefaults(): Promise<DefaultSinkSummary[]> {
      return (deps.defaultSinks ?? []).map(({ name, type, events }) => ({ name, type, events }));
    },

    /** A Warning Event on the policy: a sink did not hear of an event, and why. */
    async recordNotificationFailed(input: NotificationFailedInput): Promise<void> {
      const run = callingRun();
      await recordEvent(
        deps.kubeconfig,
        { ...policyObjectRef(input.policy), uid: input.policy.uid },
        'Warning',
        'NotificationFailed',
        `${input.sink} did not hear of ${input.event} for ${targetDisplay(input.target)}: ${input.reason}`,
        `${run.workflowId}/${run.runId}/notify/${input.sink}/${input.event}`,
      );
    },
  };
}

export function createNotify(deps: NotifyDependencies) {
  return async function notify(input: NotifyInput): Promise<{ status: number }> {
    const { facts } = input;
    const sink = chosenSink(deps, input);
    const run = callingRun();
    const context: NotificationContext = {
      ...facts,
      workflowId: run.workflowId,
      runId: run.runId,
      webUiUrl: deps.webUiUrl
        ? webUiRunUrl(deps.webUiUrl, run.namespace, run.workflowId, run.runId)
        : undefined,
    };
    const secrets = sinkSecrets({
      kubeconfig: deps.kubeconfig,
      ownNamespace: deps.ownNamespace,
      policy: facts.policy,
      serviceAccountName: input.serviceAccountName,
      operators: 'defaultSink' in input,
    });
    if (input.resolve && sink.type !== 'PagerDuty')
      throw ApplicationFailure.nonRetryable(
        `only a PagerDuty sink resolves, not ${sink.type}`,
        'NotificationRefused',
      );
    const { url, body, headers } = await requestFor(sink, context, secrets, input.resolve === true);
    // The URL may carry a token (Slack's and Teams' do): messages name only its host.
    const host = new URL(url).host;
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
      response = await postChecked(url, {
        what: `notification to ${host}`,
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'kubemedic',
          'X-KubeMedic-Event': facts.event,
          'X-KubeMedic-Delivery': `${run.workflowId}/${run.runId}/${facts.event}`,
          ...headers,
        },
        body,
        timeoutMs: requestTimeoutMs,
        rules: deps.outbound ?? {},
        // A default sink is the operator's, as a cluster policy's is: the tenants' allowlist is not for it.
        namespaced: facts.policy.namespace !== undefined && !('defaultSink' in input),
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

/** The sink to notify: the policy's, or the default sink the worker's configuration names so. */
function chosenSink(deps: NotifyDependencies, input: NotifyInput): NotificationSink {
  if ('sink' in input) return input.sink;
  const sink = deps.defaultSinks?.find((s) => s.name === input.defaultSink);
  if (!sink) {
    throw ApplicationFailure.nonRetryable(
      `the worker has no default sink ${input.defaultSink} (KUBEMEDIC_DEFAULT_NOTIFICATIONS changed since the run asked)`,
      'NotificationRefused',
    );
  }
  return sink;
}

/** Where to POST what, with which extra headers: each sink type's documented shape. */
async function requestFor(
  sink: NotificationSink,
  context: NotificationContext,
  secrets: SinkSecrets,
  resolve: boolean,
): Promise<{ url: string; body: string; headers: Record<string, string> }> {
  if (sink.type === 'PagerDuty') {
    const routingKey = await secrets.text(sink.routingKeySecretRef!, 'the PagerDuty routing key');
    const url = sink.eventsUrl ?? pagerDutyEventsUrl;
    const event = resolve ? pagerDutyResolve(context, routingKey) : pagerDutyPayload(context, routingKey);
    return { url, body: JSON.stringify(event), headers: {} };
  }
  const url = await secrets.text(sink.urlSecretRef!, `the ${sink.type} URL`);
  if (!/^https?:\/\/[^\s/?#]+/.test(url) || !URL.canParse(url)) {
    // Never the value: it is the credential.
    throw ApplicationFailure.nonRetryable(
      `the ${sink.type} URL in Secret key ${sink.urlSecretRef!.name}/${sink.urlSecretRef!.key} is not an http(s) URL`,
      'SecretMissing',
    );
  }
  const payload =
    sink.type === 'Slack'
      ? slackPayload(context)
      : sink.type === 'MSTeams'
        ? teamsPayload(context)
        : webhookPayload(context);
  const body = JSON.stringify(payload);
  if (sink.type !== 'Webhook' || !sink.secretRef) return { url, body, headers: {} };
  const key = await secrets.bytes(sink.secretRef, 'the notification signature');
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    url,
    body,
    headers: { [timestampHeader]: timestamp, [signatureHeader]: sign(key, timestamp, body) },
  };
}

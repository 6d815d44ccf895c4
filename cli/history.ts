/**
 * A run's event history, decoded: each event with its type, time, and payloads turned back into
 * values, and activity events named after the activity they belong to. `history` prints these;
 * `explain` and `restore` read them.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { RemediationInput, RemediationWorkflow } from '../domain/run.ts';

export type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type RawEvent = NonNullable<History['events']>[number];
type Payloads = { payloads?: unknown[] | null } | null | undefined;

export interface RunEvent {
  id: number;
  time: string;
  /** The event type in PascalCase, as the Web UI names it: ActivityTaskCompleted, TimerStarted… */
  type: string;
  /** The activity, signal, update, timer or search attribute the event is about. */
  name?: string;
  /** Its decoded payload: an activity's input or result, a signal's argument, a timer's duration in ms… */
  data?: unknown;
  /** For failures: the failure type and message. */
  failure?: { type?: string; message: string };
  /** The event's one-line description for people. */
  details: string;
}

export async function readHistory(handle: WorkflowHandle): Promise<RunEvent[]> {
  return decodeHistory(await handle.fetchHistory());
}

/** The input the run was started with, the workflow's own RemediationInput (its first event). */
export async function readRunInput(handle: WorkflowHandle<RemediationWorkflow>): Promise<RemediationInput> {
  const [started] = await readHistory(handle);
  return started?.data as Parameters<RemediationWorkflow>[0];
}

export function decodeHistory(history: History): RunEvent[] {
  const scheduled = new Map<number, string>();
  const timers = new Map<string, number>();
  return (history.events ?? []).map((raw) => decode(raw, scheduled, timers));
}

function decode(raw: RawEvent, scheduled: Map<number, string>, timers: Map<string, number>): RunEvent {
  const [key, attributes] = Object.entries(raw).find(
    ([k, v]) => k.endsWith('EventAttributes') && v !== null && v !== undefined,
  ) as [string, Record<string, unknown>];
  const event: RunEvent = {
    id: Number(raw.eventId),
    time: timeOf(raw.eventTime),
    type: key.charAt(0).toUpperCase() + key.slice(1, -'EventAttributes'.length),
    details: '',
  };
  const a = attributes as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  switch (event.type) {
    case 'WorkflowExecutionStarted':
      event.name = a.workflowType?.name;
      event.data = first(a.input);
      event.details = `${event.name} on task queue ${a.taskQueue?.name}`;
      break;
    case 'ActivityTaskScheduled':
      event.name = a.activityType?.name;
      scheduled.set(event.id, event.name ?? '');
      event.data = first(a.input);
      event.details = `${event.name}${summaryOf(raw)}`;
      break;
    case 'ActivityTaskStarted':
      event.name = scheduled.get(Number(a.scheduledEventId));
      event.details = `${event.name} attempt ${a.attempt}`;
      break;
    case 'ActivityTaskCompleted':
      event.name = scheduled.get(Number(a.scheduledEventId));
      event.data = first(a.result);
      event.details = `${event.name} → ${short(event.data)}`;
      break;
    case 'ActivityTaskFailed':
    case 'ActivityTaskTimedOut':
      event.name = scheduled.get(Number(a.scheduledEventId));
      event.failure = failureOf(a.failure);
      event.details = `${event.name}: ${event.failure?.type ? `${event.failure.type}: ` : ''}${event.failure?.message}`;
      break;
    case 'TimerStarted':
      event.name = a.timerId;
      event.data = durationMs(a.startToFireTimeout);
      timers.set(a.timerId, event.data as number);
      event.details = `timer ${a.timerId} for ${seconds(event.data as number)}`;
      break;
    case 'TimerFired':
      event.name = a.timerId;
      event.data = timers.get(a.timerId);
      event.details = `timer ${a.timerId} fired`;
      break;
    case 'WorkflowExecutionSignaled':
      event.name = a.signalName;
      event.data = first(a.input);
      event.details = `${a.signalName} ${short(event.data)}`;
      break;
    case 'SignalExternalWorkflowExecutionInitiated':
      event.name = a.signalName;
      event.data = { workflowId: a.workflowExecution?.workflowId, input: first(a.input) };
      event.details = `${a.signalName} → ${a.workflowExecution?.workflowId}`;
      break;
    case 'WorkflowExecutionUpdateAccepted':
      event.name = a.acceptedRequest?.input?.name;
      event.data = first(a.acceptedRequest?.input?.args);
      event.details = `${event.name} ${short(event.data)}`;
      break;
    case 'WorkflowExecutionUpdateCompleted':
      event.name = a.meta?.updateId;
      event.data = first(a.outcome?.success);
      event.failure = a.outcome?.failure ? failureOf(a.outcome.failure) : undefined;
      event.details = event.failure ? `failed: ${event.failure.message}` : `→ ${short(event.data)}`;
      break;
    case 'UpsertWorkflowSearchAttributes': {
      const indexed = (a.searchAttributes?.indexedFields ?? {}) as Record<string, unknown>;
      const values = Object.fromEntries(Object.entries(indexed).map(([k, v]) => [k, decodePayload(v)]));
      event.data = values;
      event.details = Object.entries(values)
        .map(([k, v]) => `${k}=${short(v)}`)
        .join(' ');
      break;
    }
    case 'MarkerRecorded':
      event.name = a.markerName;
      event.details = `${a.markerName}${a.details?.patch_data ? ` ${short(first(a.details.patch_data))}` : ''}`;
      break;
    case 'WorkflowExecutionCompleted':
      event.data = first(a.result);
      event.details = short(event.data);
      break;
    case 'WorkflowExecutionFailed':
      event.failure = failureOf(a.failure);
      event.details = event.failure?.message ?? '';
      break;
    case 'WorkflowExecutionTerminated':
      event.details = `terminated${a.reason ? `: ${a.reason}` : ''}${a.identity ? ` by ${a.identity}` : ''}`;
      break;
    case 'WorkflowExecutionContinuedAsNew':
      event.details = `continued as new run ${a.newExecutionRunId}`;
      break;
  }
  return event;
}

function decodePayload(payload: unknown): unknown {
  try {
    return defaultPayloadConverter.fromPayload(
      payload as Parameters<typeof defaultPayloadConverter.fromPayload>[0],
    );
  } catch {
    return '<undecodable payload>';
  }
}

const first = (payloads: Payloads) =>
  payloads?.payloads?.[0] === undefined ? undefined : decodePayload(payloads.payloads[0]);

interface RawFailure {
  message?: string | null;
  cause?: RawFailure | null;
  applicationFailureInfo?: { type?: string | null } | null;
}

function failureOf(failure: RawFailure | null | undefined): RunEvent['failure'] {
  if (!failure) return undefined;
  // An activity's own failure sits under the retry-state wrapper's cause.
  const root = failure.cause ?? failure;
  return {
    type: root.applicationFailureInfo?.type || undefined,
    message: root.message ?? failure.message ?? '',
  };
}

function summaryOf(raw: RawEvent): string {
  const summary = raw.userMetadata?.summary;
  const text = summary ? decodePayload(summary) : undefined;
  return typeof text === 'string' ? `: ${text}` : '';
}

function timeOf(time: RawEvent['eventTime']): string {
  if (!time) return '';
  const ms = Number(time.seconds ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

function durationMs(duration: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(duration?.seconds ?? 0) * 1000 + Math.floor((duration?.nanos ?? 0) / 1e6);
}

export const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`);

/** Compact JSON, cut to keep a table row readable. */
function short(value: unknown): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

/**
 * A run's history read through the workflow's own types: activity events by the names the
 * workflow's proxy calls them (the keys of RemediationActivities, so a renamed activity fails the
 * type check here, not the CLI at run time), with their payloads typed as those activities take
 * and return them; signals by their definitions (domain/messages.ts, domain/governor.ts).
 */
import type { SignalDefinition } from '@temporalio/common';
import type { RemediationActivities } from '../activities/index.ts';
import type { RunEvent } from './history.ts';

export type ActivityName = keyof RemediationActivities;
export type ActivityInput<N extends ActivityName> = Parameters<RemediationActivities[N]>[0];
export type ActivityResult<N extends ActivityName> = Awaited<ReturnType<RemediationActivities[N]>>;

/** What to do with each told activity's result (or input), typed as that activity returns (or takes) it. */
export type ResultReaders = { [N in ActivityName]?: (result: ActivityResult<N>) => void };
export type InputReaders = { [N in ActivityName]?: (input: ActivityInput<N>) => void };

/**
 * Hands a completed activity's result, or a scheduled one's input, to the reader of that
 * activity, if there is one. The payload was written by that activity's own code (its input by
 * the workflow through the typed proxy, its result by the activity), which is why it is read as
 * that type.
 */
export const readResult = (event: RunEvent, readers: ResultReaders) => dispatch(event, readers);
export const readInput = (event: RunEvent, readers: InputReaders) => dispatch(event, readers);

function dispatch(event: RunEvent, readers: ResultReaders | InputReaders): void {
  const name = event.name as ActivityName | undefined;
  if (name === undefined || !Object.hasOwn(readers, name)) return;
  (readers[name] as (payload: unknown) => void)(event.data);
}

/** The signal's argument, typed by its definition, when the event is that signal. */
export function signalArgument<Args extends unknown[]>(
  event: RunEvent,
  definition: SignalDefinition<Args>,
): Args[0] | undefined {
  return event.name === definition.name ? (event.data as Args[0]) : undefined;
}

/**
 * What became of each request to the alert receiver: a metric by reason (Accepted, or why it was
 * refused) and a log line for refusals, throttled so a flood of forged posts cannot flood the
 * log: the first refusal of a reason is logged at once, later ones at most once a minute with
 * the count of those not logged.
 */
import { Counter } from 'prom-client';
import type { AuthRefusal } from './alert-auth.ts';
import { watcherRegistry } from './metrics.ts';

export type RequestReason =
  | 'Accepted'
  | AuthRefusal
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'TooLarge'
  | 'NotJson'
  | 'NotAPayload'
  | 'Error';

export const alertReceiverRequests = new Counter({
  name: 'kubemedic_alert_receiver_requests_total',
  help:
    "Requests to the watcher's Alertmanager receiver, by reason: Accepted, or why it was refused " +
    '(MissingToken, NotBearer, WrongToken, NoClientCertificate, UntrustedClientCertificate: 401; ' +
    'NotFound, MethodNotAllowed, TooLarge, NotJson, NotAPayload, Error).',
  labelNames: ['reason'] as const,
  registers: [watcherRegistry],
});

const logEveryMs = 60_000;

export type Log = (message: string, fields?: Record<string, unknown>) => void;

export class RefusalLog {
  private readonly last = new Map<RequestReason, { atMs: number; unlogged: number }>();

  constructor(
    private readonly log: Log,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Counts the request; logs it if it was refused and its reason has not been logged lately. */
  record(reason: RequestReason, fields: { status: number; message: string; remoteAddress?: string }): void {
    alertReceiverRequests.inc({ reason });
    if (reason === 'Accepted') return;
    const now = this.nowMs();
    const last = this.last.get(reason);
    if (last !== undefined && now - last.atMs < logEveryMs) {
      last.unlogged += 1;
      return;
    }
    this.log('alert receiver refused a request', {
      level: 'warn',
      reason,
      ...fields,
      ...(last?.unlogged ? { alsoRefusedSinceLastLog: last.unlogged } : {}),
    });
    this.last.set(reason, { atMs: now, unlogged: 0 });
  }
}

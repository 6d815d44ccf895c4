/**
 * The alerts Alertmanager says are firing, by fingerprint. Memory only: a restarted watcher
 * hears of alerts still firing at Alertmanager's next repeat_interval. A stale entry (its
 * resolution went to another replica) cannot start a second run, because an alert triggers at
 * most one run per target and policy (policy-watcher/alert-triggers.ts).
 *
 * Bounded, because anyone who can reach the receiver can post: an alert not heard of again
 * within `retentionMs` is forgotten (Alertmanager repeats a firing alert every repeat_interval,
 * 4 h by default, so the default keeps those), and past `maxAlerts` the ones heard of longest
 * ago make room.
 */
import type { FiringAlert } from '../domain/conditions/alerts.ts';
import type { AlertmanagerPayload } from './alert-payload.ts';

export interface AlertStoreLimits {
  retentionMs: number;
  maxAlerts: number;
}

export const defaultAlertStoreLimits: AlertStoreLimits = { retentionMs: 6 * 3_600_000, maxAlerts: 10_000 };

export class FiringAlerts {
  /** In the order they were last heard of, oldest first (a Map keeps insertion order). */
  private readonly byFingerprint = new Map<string, FiringAlert & { heardAt: number }>();
  /** Alerts let go to stay within maxAlerts, since the start. */
  evicted = 0;

  constructor(
    private readonly limits: AlertStoreLimits = defaultAlertStoreLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Firing alerts are kept (the latest firing of a fingerprint wins); resolved ones forgotten. */
  receive(payload: AlertmanagerPayload): void {
    const heardAt = this.now();
    for (const { status, fingerprint, startsAt, labels } of payload.alerts) {
      const known = this.byFingerprint.get(fingerprint);
      // A late notification about an older firing never overrides a newer one.
      if (known !== undefined && Date.parse(known.startsAt) > Date.parse(startsAt)) continue;
      this.byFingerprint.delete(fingerprint);
      if (status === 'firing')
        this.byFingerprint.set(fingerprint, { fingerprint, startsAt, labels, heardAt });
    }
    for (const fingerprint of this.byFingerprint.keys()) {
      if (this.byFingerprint.size <= this.limits.maxAlerts) break;
      this.byFingerprint.delete(fingerprint);
      this.evicted += 1;
    }
  }

  list(): readonly FiringAlert[] {
    const since = this.now() - this.limits.retentionMs;
    for (const [fingerprint, alert] of this.byFingerprint) {
      if (alert.heardAt >= since) break;
      this.byFingerprint.delete(fingerprint);
    }
    return [...this.byFingerprint.values()].map(({ fingerprint, startsAt, labels }) => ({
      fingerprint,
      startsAt,
      labels,
    }));
  }
}

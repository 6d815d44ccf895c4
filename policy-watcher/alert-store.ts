/**
 * The alerts Alertmanager says are firing, by fingerprint. Memory only: a restarted watcher
 * hears of alerts still firing at Alertmanager's next repeat_interval. A stale entry (its
 * resolution went to another replica) cannot start a second run, because an alert triggers at
 * most one run per target and policy (policy-watcher/alert-triggers.ts).
 */
import type { FiringAlert } from '../domain/conditions/alerts.ts';
import type { AlertmanagerPayload } from './alert-payload.ts';

export class FiringAlerts {
  private readonly byFingerprint = new Map<string, FiringAlert>();

  /** Firing alerts are kept (the latest firing of a fingerprint wins); resolved ones forgotten. */
  receive(payload: AlertmanagerPayload): void {
    for (const { status, fingerprint, startsAt, labels } of payload.alerts) {
      const known = this.byFingerprint.get(fingerprint);
      // A late notification about an older firing never overrides a newer one.
      if (known !== undefined && Date.parse(known.startsAt) > Date.parse(startsAt)) continue;
      if (status === 'firing') this.byFingerprint.set(fingerprint, { fingerprint, startsAt, labels });
      else this.byFingerprint.delete(fingerprint);
    }
  }

  list(): readonly FiringAlert[] {
    return [...this.byFingerprint.values()];
  }
}

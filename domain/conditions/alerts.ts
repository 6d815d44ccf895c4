/**
 * Alertmanager conditions: which firing alerts a policy's matchers select, and which target an
 * alert is about. Matchers use Alertmanager's own syntax (`severity=~"crit.*"`), with its
 * semantics: regular expressions are anchored, and a label the alert lacks reads as "". They
 * are RE2, as Alertmanager's own (Go regexp): matching takes time linear in the label's length
 * whatever the pattern, so a hostile `(a+)+$` cannot stall the watcher, and what RE2 refuses
 * (lookaround, backreferences) makes the policy Invalid instead of matching differently.
 */
import { RE2JS } from 're2js';
import { alertMatcherPattern, type Condition } from '../../api/policy.ts';
import type { TargetRef } from '../actions.ts';

/** One firing alert as Alertmanager reported it. */
export interface FiringAlert {
  fingerprint: string;
  /** RFC 3339; with the fingerprint it names one firing of one alert. */
  startsAt: string;
  labels: Record<string, string>;
}

/** Names one firing of one alert: a re-notification carries the same key, a new firing does not. */
export const alertKey = (alert: Pick<FiringAlert, 'fingerprint' | 'startsAt'>) =>
  `${alert.fingerprint}@${canonicalTime(alert.startsAt)}`;

/**
 * One instant, one spelling: Alertmanager's webhook writes Go's RFC 3339 with trailing zeros
 * cut (…27.63Z) and its API keeps them (…27.630Z). UTC, fraction to the nanosecond, no zeros.
 */
export function canonicalTime(time: string): string {
  const match = /^(.+?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i.exec(time);
  const seconds = match ? new Date(`${match[1]}${match[3]}`) : new Date(Number.NaN);
  if (Number.isNaN(seconds.getTime())) return time;
  const fraction = (match![2] ?? '').replace(/0+$/, '');
  return `${seconds.toISOString().slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`;
}

export interface Matcher {
  name: string;
  operator: '=' | '!=' | '=~' | '!~';
  value: string;
  /** For =~ and !~: the value compiled once, anchored. */
  regex?: RE2JS;
}

/** Parses one matcher, or throws an error that names it and says what is wrong. */
export function parseMatcher(text: string): Matcher {
  const match = alertMatcherPattern.exec(text);
  if (match === null) {
    throw new Error(`matcher ${JSON.stringify(text)} is not of the form name="value" (=, !=, =~ or !~)`);
  }
  const [, name = '', operator, raw = ''] = match;
  const value = raw.startsWith('"')
    ? raw.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    : raw;
  let regex: RE2JS | undefined;
  if (operator === '=~' || operator === '!~') {
    try {
      regex = RE2JS.compile(`^(?:${value})$`);
    } catch (error) {
      throw new Error(`matcher ${JSON.stringify(text)}: ${(error as Error).message}`, { cause: error });
    }
  }
  return { name, operator: operator as Matcher['operator'], value, ...(regex ? { regex } : {}) };
}

export function matches(matcher: Matcher, labels: Record<string, string>): boolean {
  const actual = Object.hasOwn(labels, matcher.name) ? labels[matcher.name]! : '';
  switch (matcher.operator) {
    case '=':
      return actual === matcher.value;
    case '!=':
      return actual !== matcher.value;
    case '=~':
      return regexOf(matcher).matcher(actual).matches();
    case '!~':
      return !regexOf(matcher).matcher(actual).matches();
  }
}

const regexOf = (matcher: Matcher) => matcher.regex ?? RE2JS.compile(`^(?:${matcher.value})$`);

/**
 * Whether a set of labels (a Prometheus series or an alert) is about the target: same namespace
 * (not for Nodes), and `targetLabel` — by default the target kind in lower case (deployment,
 * statefulset, pod, node) — names it, or the `pod` label names one of its Pods.
 */
export function labelsNameTarget(
  target: { ref: TargetRef; podNames: ReadonlySet<string | undefined> },
  labels: Record<string, string | undefined>,
  targetLabel = target.ref.kind.toLowerCase(),
): boolean {
  if (target.ref.kind !== 'Node' && labels.namespace !== target.ref.namespace) return false;
  return (
    labels[targetLabel] === target.ref.name || (labels.pod !== undefined && target.podNames.has(labels.pod))
  );
}

type AlertmanagerBlock = NonNullable<Condition['alertmanager']>;

/** The firing alerts that the condition's matchers select and that are about the target. */
export function alertsFor(
  block: AlertmanagerBlock,
  target: { ref: TargetRef; podNames: ReadonlySet<string | undefined> },
  alerts: readonly FiringAlert[],
): FiringAlert[] {
  const matchers = block.matchers.map(parseMatcher);
  return alerts.filter(
    (alert) =>
      matchers.every((m) => matches(m, alert.labels)) &&
      labelsNameTarget(target, alert.labels, block.targetLabel),
  );
}

/**
 * The active alerts (neither silenced nor inhibited) Alertmanager's API v2 holds now: where no
 * webhook feeds a process (the worker verifying a run), Alertmanager conditions read these.
 */
export async function activeAlerts(alertmanagerUrl: string): Promise<FiringAlert[]> {
  const url = `${alertmanagerUrl.replace(/\/$/, '')}/api/v2/alerts?active=true&silenced=false&inhibited=false`;
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok)
    throw new Error(`Alertmanager ${url} answered ${response.status}: ${await response.text()}`);
  const alerts = (await response.json()) as (FiringAlert & { status?: { state?: string } })[];
  return alerts
    .filter((alert) => alert.status?.state === undefined || alert.status.state === 'active')
    .map(({ fingerprint, startsAt, labels }) => ({ fingerprint, startsAt, labels }));
}

/** Alertmanager conditions: matchers with Alertmanager's semantics, and which target an alert is about. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  alertKey,
  alertsFor,
  type FiringAlert,
  matches,
  parseMatcher,
} from '../../domain/conditions/alerts.ts';
import { checkPolicy } from '../../policy-watcher/policies.ts';

const labels = { alertname: 'HighErrorRate', severity: 'critical', namespace: 'shop', deployment: 'web' };
const holds = (matcher: string, on: Record<string, string> = labels) => matches(parseMatcher(matcher), on);

describe('Alertmanager matchers', () => {
  it('parses quoted and bare values, with escapes', () => {
    assert.deepEqual(parseMatcher('severity="critical"'), {
      name: 'severity',
      operator: '=',
      value: 'critical',
    });
    assert.deepEqual(parseMatcher(' alertname = HighErrorRate '), {
      name: 'alertname',
      operator: '=',
      value: 'HighErrorRate',
    });
    assert.deepEqual(parseMatcher('summary!="say \\"hi\\"\\\\"'), {
      name: 'summary',
      operator: '!=',
      value: 'say "hi"\\',
    });
  });

  it('refuses what is not a matcher, and regular expressions that do not compile', () => {
    assert.throws(() => parseMatcher('severity'), /not of the form name="value"/);
    assert.throws(() => parseMatcher('severity=="x"'), /not of the form/);
    assert.throws(() => parseMatcher('1abc="x"'), /not of the form/);
    assert.throws(() => parseMatcher('severity=~"crit("'), /severity=~/);
  });

  it('uses RE2, as Alertmanager does: no lookaround or backreferences, and no catastrophic backtracking', () => {
    assert.throws(() => parseMatcher('severity=~"(?=crit).*"'), /severity=~.*unsupported Perl syntax/);
    assert.throws(() => parseMatcher(String.raw`severity=~"(a)\\1"`), /severity=~.*invalid escape/);
    // A backtracking engine takes exponential time here (29 characters already took over a
    // second); RE2 answers at once, so the test would time out rather than pass without it.
    const hostile = parseMatcher('pod=~"(a+)+$"');
    assert.equal(matches(hostile, { pod: `${'a'.repeat(5_000)}b` }), false);
    assert.equal(matches(hostile, { pod: 'a'.repeat(5_000) }), true);
  });

  it('= and != compare whole values; an absent label reads as ""', () => {
    assert.equal(holds('severity="critical"'), true);
    assert.equal(holds('severity="crit"'), false);
    assert.equal(holds('severity!="warning"'), true);
    assert.equal(holds('team=""'), true, 'absent equals empty');
    assert.equal(holds('team!=""'), false);
  });

  it('=~ and !~ are anchored at both ends, as in Alertmanager', () => {
    assert.equal(holds('severity=~"crit.*"'), true);
    assert.equal(holds('severity=~"crit"'), false, 'anchored: a prefix is not a match');
    assert.equal(holds('severity=~"warning|critical"'), true);
    assert.equal(holds('severity!~"warn.*"'), true);
    assert.equal(holds('severity!~".*ical"'), false);
  });
});

describe('the alerts of a target', () => {
  const alert = (fingerprint: string, extra: Record<string, string>): FiringAlert => ({
    fingerprint,
    startsAt: '2026-01-01T00:00:00Z',
    labels: { ...labels, ...extra },
  });
  const web = {
    ref: { kind: 'Deployment' as const, namespace: 'shop', name: 'web' },
    podNames: new Set(['web-1']),
  };
  const block = { matchers: ['alertname="HighErrorRate"', 'severity=~"crit.*"'] };

  it('selects alerts that meet every matcher and name the target in its namespace', () => {
    const alerts = [
      alert('a', {}),
      alert('b', { severity: 'warning' }),
      alert('c', { namespace: 'other' }),
      alert('d', { deployment: 'api' }),
      alert('e', { deployment: '', pod: 'web-1' }),
    ];
    assert.deepEqual(
      alertsFor(block, web, alerts).map((a) => a.fingerprint),
      ['a', 'e'],
    );
  });

  it('reads the target name from targetLabel when one is set', () => {
    const alerts = [alert('a', { deployment: '', service: 'web' }), alert('b', {})];
    assert.deepEqual(
      alertsFor({ ...block, targetLabel: 'service' }, web, alerts).map((a) => a.fingerprint),
      ['a'],
    );
  });

  it('a Node target needs no namespace label', () => {
    const node = { ref: { kind: 'Node' as const, name: 'n1' }, podNames: new Set<string>() };
    const alerts = [
      { fingerprint: 'n', startsAt: '2026-01-01T00:00:00Z', labels: { alertname: 'X', node: 'n1' } },
    ];
    assert.equal(alertsFor({ matchers: ['alertname="X"'] }, node, alerts).length, 1);
  });

  it('one firing of an alert is named by its fingerprint and start, however the time is spelled', () => {
    assert.equal(
      alertKey({ fingerprint: 'f00d', startsAt: '2026-01-01T00:00:00Z' }),
      'f00d@2026-01-01T00:00:00Z',
    );
    const spellings = [
      '2026-01-01T00:00:27.63Z',
      '2026-01-01T00:00:27.630Z',
      '2026-01-01T01:00:27.6300+01:00',
    ];
    for (const startsAt of spellings) {
      assert.equal(alertKey({ fingerprint: 'f', startsAt }), 'f@2026-01-01T00:00:27.63Z', startsAt);
    }
    assert.notEqual(
      alertKey({ fingerprint: 'f', startsAt: '2026-01-01T00:00:27.630000001Z' }),
      alertKey({ fingerprint: 'f', startsAt: '2026-01-01T00:00:27.63Z' }),
      'nanoseconds count',
    );
  });
});

describe('a policy with a bad alert matcher', () => {
  it('is Invalid, with the path of the matcher and the reason', () => {
    const check = checkPolicy('RemediationPolicy', {
      metadata: { name: 'p', namespace: 'shop', uid: 'u', generation: 1 },
      spec: {
        target: { kind: 'Deployment', name: 'web' },
        conditions: [
          {
            name: 'alert',
            source: 'Alertmanager',
            alertmanager: { matchers: ['severity=~"crit("'] },
            threshold: 0,
          },
        ],
        actions: [{ type: 'RolloutRestart' }],
      },
    });
    assert.equal(check.valid, false);
    assert.match(!check.valid ? check.reason : '', /spec\.conditions\.0\.alertmanager\.matchers: matcher/);
  });

  it('whose matcher is not of the form name="value" is refused by the schema', () => {
    const check = checkPolicy('RemediationPolicy', {
      metadata: { name: 'p', namespace: 'shop', uid: 'u', generation: 1 },
      spec: {
        target: { kind: 'Deployment', name: 'web' },
        conditions: [
          { name: 'alert', source: 'Alertmanager', alertmanager: { matchers: ['x'] }, threshold: 0 },
        ],
        actions: [{ type: 'RolloutRestart' }],
      },
    });
    assert.equal(check.valid, false);
    assert.match(!check.valid ? check.reason : '', /an Alertmanager matcher/);
  });
});

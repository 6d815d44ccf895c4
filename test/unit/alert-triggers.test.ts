/**
 * One firing of an alert starts at most one run per target and policy: the alerts that already
 * triggered a run are read back from the memo of the runs Temporal's visibility lists. The
 * Temporal client is faked here (its list call only); the e2e test drives the real one.
 */
import type { Client } from '@temporalio/client';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicySpec } from '../../api/policy.ts';
import { alertKey, type FiringAlert } from '../../domain/conditions/alerts.ts';
import { alertTriggers, triggeredByAlertsMemo } from '../../policy-watcher/alert-triggers.ts';
import type { CheckedPolicy } from '../../policy-watcher/policies.ts';
import { remediationWorkflowId, type TargetRef } from '../../domain/run.ts';

const web: TargetRef = { kind: 'Deployment', namespace: 'shop', name: 'web' };
const api: TargetRef = { kind: 'Deployment', namespace: 'shop', name: 'api' };
const policy = {
  ref: { kind: 'RemediationPolicy', namespace: 'shop', name: 'p', uid: 'u', generation: 1 },
  spec: {
    conditions: [
      {
        name: 'errors',
        source: 'Alertmanager',
        alertmanager: { matchers: ['alertname="HighErrorRate"'] },
        operator: '>',
        threshold: 0,
        for: '0s',
      },
    ],
  } as unknown as PolicySpec,
} as CheckedPolicy;

const alert = (fingerprint: string, deployment: string, startsAt = '2026-01-01T00:00:00Z'): FiringAlert => ({
  fingerprint,
  startsAt,
  labels: { alertname: 'HighErrorRate', namespace: 'shop', deployment },
});

/** A client whose visibility lists `runs`, and that records the queries it was asked. */
function fakeClient(runs: { workflowId: string; memo?: Record<string, unknown> }[], queries: string[]) {
  return {
    workflow: {
      list: ({ query }: { query: string }) => {
        queries.push(query);
        return (async function* () {
          yield* runs;
        })();
      },
    },
  } as unknown as Client;
}

const stateOf = (ref: TargetRef) => ({ ref, object: {} as never, pods: [] });
const holding = [{ name: 'errors', value: 1, holds: true }];

describe('alert triggers', () => {
  it('an alert that triggered a run of the target is not eligible again; others are', async () => {
    // Given alert a that already triggered the run of web, and alert b on api that triggered none
    const a = alert('a', 'web');
    const b = alert('b', 'api');
    const queries: string[] = [];
    const client = fakeClient(
      [
        {
          workflowId: remediationWorkflowId('c1', web, policy.ref),
          memo: { [triggeredByAlertsMemo]: [alertKey(a)] },
        },
      ],
      queries,
    );
    // When the policy is evaluated with both firing
    const triggers = await alertTriggers(client, 'c1', policy, [a, b]);
    // Then a is no longer eligible for web, b is for api, and a new firing of a is again
    assert.deepEqual(triggers!.eligible(web), [b]);
    assert.deepEqual(triggers!.behind(stateOf(web), holding), []);
    assert.deepEqual(triggers!.behind(stateOf(api), holding), [b]);
    const refired = alert('a', 'web', '2026-01-01T01:00:00Z');
    const again = await alertTriggers(client, 'c1', policy, [refired]);
    assert.deepEqual(again!.behind(stateOf(web), holding), [refired]);
    // And visibility was asked for this policy's runs since the oldest alert began (less the slack)
    assert.match(
      queries[0]!,
      /KubeMedicCluster = "c1" AND KubeMedicPolicy = "shop\/p" AND StartTime >= "2025-12-31T23:00:00.000Z"/,
    );
  });

  it('alerts no condition selects cost no lookup, and a condition that does not hold brings none', async () => {
    const queries: string[] = [];
    const other = {
      ...alert('o', 'web'),
      labels: { alertname: 'DiskFull', namespace: 'shop', deployment: 'web' },
    };
    const triggers = await alertTriggers(fakeClient([], queries), 'c1', policy, [other]);
    assert.deepEqual(queries, []);
    assert.deepEqual(triggers!.eligible(web), []);
    const a = alert('a', 'web');
    const withA = await alertTriggers(fakeClient([], queries), 'c1', policy, [a]);
    assert.deepEqual(withA!.behind(stateOf(web), [{ name: 'errors', value: 1, holds: false }]), []);
  });

  it('a policy without Alertmanager conditions needs no triggers at all', async () => {
    const queries: string[] = [];
    const prometheusOnly = {
      ...policy,
      spec: { conditions: [{ name: 'x', source: 'Prometheus' }] },
    } as CheckedPolicy;
    assert.equal(
      await alertTriggers(fakeClient([], queries), 'c1', prometheusOnly, [alert('a', 'web')]),
      undefined,
    );
    assert.deepEqual(queries, []);
  });
});

/**
 * The API server itself is KubeMedic's admission control: the generated CRDs (structural schema,
 * defaults, CEL rules) must accept good policies, fill in their defaults as zod does, and refuse
 * malformed ones with a 422 that says what is wrong.
 *
 * The two CRDs are cluster-wide and shared with every other test and the watcher: they are
 * applied idempotently (server-side apply) and never deleted here.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { KubeRequestError, kubeRequest } from '../../domain/kube/request.ts';
import {
  apiVersion,
  group,
  policyKinds,
  signingNeedsServiceAccountMessage,
  version,
  type CustomResourceDefinition,
  type PolicyKind,
} from '../../api/index.ts';
import { crdDirectory } from '../../api/generate-crds.ts';
import { eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';

const namespace = useTestNamespace('kmt-adm');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Policy {
  apiVersion: string;
  kind: PolicyKind;
  metadata: { name: string; namespace?: string };
  spec: JsonObject;
}

const cpuCondition = {
  name: 'cpu',
  source: 'Prometheus',
  prometheus: { shorthand: 'CPU', against: 'Requests' },
  threshold: 0.9,
  for: '5m',
} satisfies JsonObject;

/** A valid RemediationPolicy spec: scale a Deployment out when its CPU runs hot. */
const namespacedSpec = (): JsonObject => ({
  target: { kind: 'Deployment', name: 'web' },
  conditions: [cpuCondition],
  actions: [{ type: 'Scale', scale: { factor: 1.5, maxReplicas: 10 } }],
});

/** A valid ClusterRemediationPolicy spec: restart Deployments that stay unavailable. */
const clusterSpec = (): JsonObject => ({
  target: { kind: 'Deployment', selector: { matchLabels: { app: 'web' } }, namespaces: [namespace.name] },
  conditions: [
    {
      name: 'unavailable',
      source: 'Kubernetes',
      kubernetes: { state: 'DeploymentUnavailable' },
      threshold: 0,
    },
  ],
  actions: [{ type: 'RolloutRestart' }],
  approval: { required: true },
});

function policy(kind: PolicyKind, name: string, spec: JsonObject): Policy {
  const scoped = policyKinds[kind].scope === 'Namespaced';
  return { apiVersion, kind, metadata: scoped ? { name, namespace: namespace.name } : { name }, spec };
}

function collectionPath(kind: PolicyKind): string {
  const scope = policyKinds[kind].scope === 'Namespaced' ? `/namespaces/${namespace.name}` : '';
  return `/apis/${group}/${version}${scope}/${policyKinds[kind].plural}`;
}

const createPolicy = (body: Policy) =>
  kubeRequest<Policy>(kubeconfig(), { method: 'POST', path: collectionPath(body.kind), body });

const deletePolicy = (body: Policy) =>
  kubeRequest(kubeconfig(), {
    method: 'DELETE',
    path: `${collectionPath(body.kind)}/${body.metadata.name}`,
  }).catch(() => undefined);

/** RFC 7386 JSON merge patch: objects merge, `null` removes, everything else replaces. */
function mergePatch(target: Json, patch: Json): Json {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: JsonObject =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

/** The generated CRDs as the chart ships them, applied server-side and waited for. */
async function installCrds(): Promise<void> {
  const crds = readdirSync(crdDirectory)
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => parse(readFileSync(join(crdDirectory, file), 'utf8')) as CustomResourceDefinition);
  assert.equal(crds.length, 4, 'four CRD files in the chart: the two policies, decisions and pauses');
  for (const crd of crds) {
    await kubeRequest(kubeconfig(), {
      method: 'PATCH',
      path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
      query: { fieldManager: 'kubemedic-crds', force: 'true' },
      contentType: 'application/apply-patch+yaml',
      body: crd,
    });
  }
  for (const crd of crds) {
    await eventually(`${crd.metadata.name} to be Established`, async () => {
      const live = await kubeRequest<{ status?: { conditions?: { type: string; status: string }[] } }>(
        kubeconfig(),
        {
          method: 'GET',
          path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
        },
      );
      return live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
        ? true
        : undefined;
    });
  }
}

/**
 * Creates a policy, retrying only while the API server does not serve the new resource yet
 * (404). Resolves to the stored policy, or to the error the API server answered with.
 */
function createOnceServed(body: Policy): Promise<{ created: Policy } | { refused: unknown }> {
  return eventually(`the API server to serve ${policyKinds[body.kind].plural}`, async () => {
    try {
      return { created: await createPolicy(body) };
    } catch (error) {
      if (error instanceof KubeRequestError && error.status === 404) return undefined;
      return { refused: error };
    }
  });
}

interface Refusal {
  name: string;
  /** Which valid base policy the patch applies to; RemediationPolicy unless said. */
  kind?: PolicyKind;
  /** JSON merge patch on the base policy's spec. */
  patch: JsonObject;
  /** A fragment of the API server's 422 message. */
  expected: string;
}

/** Each row breaks a valid policy in exactly one way (the API server skips CEL rules once the
 * schema itself is violated, so two faults in one row would hide the second). */
const refusals: Refusal[] = [
  {
    name: 'missing conditions',
    patch: { conditions: null },
    expected: 'spec.conditions: Required value',
  },
  {
    name: 'empty actions',
    patch: { actions: [] },
    expected: 'spec.actions in body should have at least 1 items',
  },
  {
    name: 'a target with both name and selector',
    patch: { target: { selector: { matchLabels: { app: 'web' } } } },
    expected: 'spec.target: Invalid value: "object": set exactly one of target.name or target.selector',
  },
  {
    name: 'a target with neither name nor selector',
    patch: { target: { name: null } },
    expected: 'spec.target: Invalid value: "object": set exactly one of target.name or target.selector',
  },
  {
    name: 'a namespaced policy targeting kind Node',
    patch: { target: { kind: 'Node' } },
    expected:
      'spec.target.kind: Unsupported value: "Node": supported values: "Deployment", "StatefulSet", "Pod"',
  },
  {
    name: 'a cluster policy on kind Deployment without namespaces',
    kind: 'ClusterRemediationPolicy',
    patch: { target: { namespaces: null } },
    expected: 'any other kind needs exactly one of namespaces or namespaceSelector',
  },
  {
    name: 'a Prometheus condition without the prometheus block',
    patch: { conditions: [{ ...cpuCondition, prometheus: null }] },
    expected: 'spec.conditions[0]: Invalid value: "object": source Prometheus needs the prometheus block',
  },
  {
    name: 'a prometheus block with both query and shorthand',
    patch: { conditions: [{ ...cpuCondition, prometheus: { shorthand: 'CPU', query: 'up' } }] },
    expected: 'spec.conditions[0].prometheus: Invalid value: "object": set exactly one of query or shorthand',
  },
  {
    name: "a bad duration ('5 minutes')",
    patch: { cooldown: '5 minutes' },
    expected: 'spec.cooldown: Invalid value: "5 minutes": spec.cooldown in body should match',
  },
  {
    name: 'an evaluationInterval of 0s (the watcher would spin)',
    patch: { evaluationInterval: '0s' },
    expected: 'spec.evaluationInterval: Invalid value: "string": at least 1s',
  },
  {
    name: 'a cooldown of a year',
    patch: { cooldown: '8760h' },
    expected: 'spec.cooldown: Invalid value: "string": at most 720h',
  },
  {
    name: 'a zero approval timeout',
    patch: { approval: { required: true, timeout: '0s' } },
    expected: 'spec.approval.timeout: Invalid value: "string": at least 1s',
  },
  {
    name: 'a PromQL window PromQL refuses (1.5m)',
    patch: { conditions: [{ ...cpuCondition, prometheus: { shorthand: 'CPU', window: '1.5m' } }] },
    expected: 'spec.conditions[0].prometheus.window in body should match',
  },
  {
    name: 'a Scale action without the scale block',
    patch: { actions: [{ type: 'Scale' }] },
    expected: 'spec.actions[0]: Invalid value: "object": action Scale needs the scale block, and only it',
  },
  {
    name: 'a CordonNode action in a RemediationPolicy (its target cannot be a Node)',
    patch: { actions: [{ type: 'CordonNode' }] },
    expected:
      'spec: Invalid value: "object": action CordonNode acts only on Node targets, which only a ClusterRemediationPolicy has',
  },
  {
    name: 'a RolloutRestart action on a Node',
    kind: 'ClusterRemediationPolicy',
    patch: { target: { kind: 'Node', namespaces: null } },
    expected:
      'spec: Invalid value: "object": action RolloutRestart acts only on Deployment or StatefulSet targets',
  },
  {
    name: 'a Scale action with both replicas and factor',
    patch: { actions: [{ type: 'Scale', scale: { replicas: 3, factor: 1.5 } }] },
    expected: 'spec.actions[0].scale: Invalid value: "object": set exactly one of replicas or factor',
  },
  {
    name: 'a Scale action to 0 replicas',
    patch: { actions: [{ type: 'Scale', scale: { replicas: 0 } }] },
    expected: 'spec.actions[0].scale.replicas in body should be greater than or equal to 1',
  },
  {
    name: 'two conditions with the same name',
    patch: { conditions: [cpuCondition, { ...cpuCondition, threshold: 0.95 }] },
    expected: 'spec: Invalid value: "object": condition names must be unique',
  },
  {
    name: 'an unknown action type',
    patch: { actions: [{ type: 'Reboot' }] },
    expected: 'spec.actions[0].type: Unsupported value: "Reboot": supported values: "Scale"',
  },
  {
    name: "approval.onTimeout 'Maybe'",
    patch: { approval: { onTimeout: 'Maybe' } },
    expected: 'spec.approval.onTimeout: Unsupported value: "Maybe": supported values: "Reject", "Approve"',
  },
  {
    name: 'a Slack sink with its URL written inline instead of in a Secret',
    patch: { notifications: [{ type: 'Slack', url: 'https://hooks.slack.com/services/T0/B0/token' }] },
    expected:
      'spec.notifications[0]: Invalid value: "object": a Webhook, Slack or MSTeams sink needs urlSecretRef',
  },
  {
    name: 'a PagerDuty sink without its routing key',
    patch: { notifications: [{ type: 'PagerDuty' }] },
    expected:
      'spec.notifications[0]: Invalid value: "object": a PagerDuty sink needs routingKeySecretRef (and takes eventsUrl, not urlSecretRef)',
  },
  {
    name: 'a PagerDuty sink with an ftp events URL',
    patch: {
      notifications: [
        {
          type: 'PagerDuty',
          routingKeySecretRef: { name: 'pd', key: 'k' },
          eventsUrl: 'ftp://events.example.com/x',
        },
      ],
    },
    expected: 'spec.notifications[0].eventsUrl in body should match',
  },
  {
    name: 'a signed Teams sink (only a Webhook sink is signed)',
    patch: {
      notifications: [
        { type: 'MSTeams', urlSecretRef: { name: 's', key: 'url' }, secretRef: { name: 's', key: 'hmac' } },
      ],
    },
    expected: 'spec.notifications[0]: Invalid value: "object": only a Webhook sink is signed (secretRef)',
  },
  {
    name: "a sink's Secret named with a path",
    patch: { notifications: [{ type: 'Slack', urlSecretRef: { name: '../other/secret', key: 'url' } }] },
    expected: 'spec.notifications[0].urlSecretRef.name in body should match',
  },
  {
    name: 'a notification sink with an unknown event',
    patch: {
      notifications: [{ type: 'Webhook', urlSecretRef: { name: 's', key: 'url' }, events: ['Exploded'] }],
    },
    expected:
      'spec.notifications[0].events[0]: Unsupported value: "Exploded": supported values: "AwaitingApproval"',
  },
  {
    name: 'a notification sink in a policy that names no ServiceAccount to read its Secrets',
    patch: { notifications: [{ type: 'Slack', urlSecretRef: { name: 'hooks', key: 'url' } }] },
    expected: `spec: Invalid value: "object": ${signingNeedsServiceAccountMessage}`,
  },
];

describe('policy admission by the API server', () => {
  const clusterPolicies: Policy[] = [];

  before(async () => {
    // Given the generated CRDs, applied to the API server and Established
    await installCrds();
  });

  after(async () => {
    // Cluster-scoped policies outlive the test namespace: remove them. The CRDs stay.
    for (const created of clusterPolicies) await deletePolicy(created);
  });

  for (const kind of ['RemediationPolicy', 'ClusterRemediationPolicy'] as const) {
    it(`accepts a valid ${kind} and fills in the defaults as zod does`, async () => {
      // Given a valid policy that leaves every defaulted field out
      const spec = kind === 'RemediationPolicy' ? namespacedSpec() : clusterSpec();
      const body = policy(kind, `valid-${namespace.name}`, spec);
      if (policyKinds[kind].scope === 'Cluster') clusterPolicies.push(body);

      // When it is created
      const outcome = await createOnceServed(body);
      if ('refused' in outcome) throw outcome.refused;
      const { created } = outcome;

      // Then the API server stored it with the defaults of the schema
      assert.equal(created.spec.match, 'All');
      assert.equal(created.spec.cooldown, '10m');
      assert.equal(created.spec.evaluationInterval, '30s');
      assert.equal(created.spec.suspend, false);
      // And exactly the spec zod's parse produces, so the watcher and the API server agree
      assert.deepEqual(created.spec, policyKinds[kind].spec.parse(spec));
    });
  }

  describe('refuses a malformed policy with 422 and says why', () => {
    for (const row of refusals) {
      it(row.name, async (t) => {
        // Given a valid base policy broken in one way
        const kind = row.kind ?? 'RemediationPolicy';
        const base = kind === 'RemediationPolicy' ? namespacedSpec() : clusterSpec();
        const spec = mergePatch(base, row.patch) as JsonObject;
        const body = policy(kind, `bad-${namespace.name}`, spec);

        // When it is created
        const outcome = await createOnceServed(body);
        if ('created' in outcome) await deletePolicy(body);

        // Then the API server refuses it as Invalid (422), naming the broken rule
        assert.ok('refused' in outcome, `the API server accepted ${row.name}`);
        const error = outcome.refused;
        assert.ok(error instanceof KubeRequestError, String(error));
        t.diagnostic(error.message);
        assert.equal(error.status, 422, error.message);
        assert.equal(error.reason, 'Invalid');
        assert.ok(
          error.message.includes(row.expected),
          `expected ${JSON.stringify(row.expected)} in: ${error.message}`,
        );
      });
    }
  });
});

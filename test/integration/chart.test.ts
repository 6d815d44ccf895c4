/**
 * The Helm chart: it lints, renders with its defaults and with every optional part on, refuses
 * bad values through values.schema.json, renders manifests the real API server accepts
 * (server-side dry run), and its RBAC is least privilege — checked in the rendered rules and
 * again on the API server, as the chart's own ServiceAccounts.
 * (That the chart's CRDs are what api/policy.ts generates is test/unit/crds.test.ts.)
 */
import {
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  type V1ResourceAttributes,
} from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import { repoRoot } from '../../devstack/config.ts';
import { installCrds } from '../../devstack/crds.ts';
import { environment } from '../../devstack/stack.ts';
import { searchAttributes } from '../../domain/search-attributes.ts';
import { group, policyKinds, version } from '../../api/index.ts';
import { serveMetrics } from '../../domain/metrics-server.ts';
import { kubeRequest, objectPath } from '../../domain/kube/request.ts';
import { conditions, deploymentPolicy, scale } from '../support/policy-builder.ts';
import { watcherEnvironment } from '../../domain/config/watcher.ts';
import { workerEnvironment } from '../../domain/config/worker.ts';
import { chartDir, chartIdentities, helm, type RbacRule, renderChart, rulesOf } from '../support/chart.ts';
import { ensureStack, eventually, kubeconfig, useTestNamespace } from '../support/stack.ts';

const everythingOn = {
  metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } },
  grafanaDashboard: { enabled: true },
  temporal: {
    tls: { enabled: true, secretName: 'temporal-client' },
    apiKey: { secretName: 'temporal-key' },
    webUiUrl: 'https://temporal-ui.example',
    registerSearchAttributes: true,
  },
  limits: { maxConcurrent: 5, maxPerHour: 10, maxConcurrentPerNamespace: 2 },
  requireServiceAccount: true,
  protectedNamespaces: ['payments'],
  prometheusUrl: 'http://prometheus.monitoring:9090',
  watcher: {
    policySelector: 'team=shop',
    topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
    ],
  },
  worker: {
    topologySpreadConstraints: [
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule' },
    ],
  },
  podAnnotations: { 'example.com/scrape': 'true' },
  priorityClassName: 'kubemedic-critical',
  networkPolicy: {
    enabled: true,
    metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
    egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }],
  },
  alertReceiver: {
    existingSecret: 'alertmanager-webhook',
    existingSecretKey: 'bearer',
    networkPolicy: { from: [{ podSelector: { matchLabels: { app: 'alertmanager' } } }] },
  },
};

const kindsOf = (objects: KubernetesObject[]) => objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort();
const byKind = (objects: KubernetesObject[], kind: string) => objects.filter((o) => o.kind === kind);
type Container = {
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  securityContext?: Record<string, unknown>;
};
type DeploymentShape = {
  metadata: { name: string };
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        priorityClassName?: string;
        topologySpreadConstraints?: Record<string, unknown>[];
        terminationGracePeriodSeconds: number;
        securityContext: Record<string, unknown>;
        containers: Container[];
        volumes: { name: string; secret?: { secretName: string } }[];
      };
    };
  };
};
const deployment = (objects: KubernetesObject[], component: string) => {
  const found = byKind(objects, 'Deployment').find(
    (o) => o.metadata?.labels?.['app.kubernetes.io/component'] === component,
  );
  assert.ok(found, `no ${component} Deployment rendered`);
  return found as unknown as DeploymentShape;
};
const envOf = (d: DeploymentShape) =>
  Object.fromEntries(
    (d.spec.template.spec.containers[0]!.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]),
  );

const componentOf = (object: KubernetesObject) => object.metadata?.labels?.['app.kubernetes.io/component'];
type BudgetShape = {
  spec: { maxUnavailable: number | string; selector: { matchLabels: Record<string, string> } };
};
const budgetOf = (objects: KubernetesObject[], component: string) => {
  const found = byKind(objects, 'PodDisruptionBudget').find((o) => componentOf(o) === component);
  assert.ok(found, `no ${component} PodDisruptionBudget rendered`);
  return found as unknown as BudgetShape;
};
type IngressRule = { ports: { port: string }[]; from?: unknown[] };
type NetworkPolicyShape = {
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress: IngressRule[];
    egress?: unknown[];
  };
};
type JobShape = {
  metadata: { annotations: Record<string, string> };
  spec: {
    template: {
      spec: {
        containers: {
          command: string[];
          args: string[];
          env: { name: string; value?: string; valueFrom?: unknown }[];
        }[];
        volumes: { name: string; secret?: { secretName: string } }[];
      };
    };
  };
};
type TestPodShape = {
  metadata: { annotations: Record<string, string> };
  spec: { containers: { command: string[]; args: string[]; env: { name: string; value?: string }[] }[] };
};

const run = promisify(execFile);

/** /healthz served by the processes' own metrics server, answering as `healthy` says. */
async function healthEndpoint(healthy: boolean): Promise<{ url: string; close(): void }> {
  const server = serveMetrics(0, {
    registry: new Registry(),
    healthy: () => healthy,
    why: 'the worker is not running',
  });
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`,
    close: () => server.close(),
  };
}

describe('the Helm chart', () => {
  it('passes helm lint --strict, values.schema.json included', () => {
    // Given the chart as committed / When helm lints it / Then no error and no warning
    const output = helm(['lint', chartDir, '--strict']);
    assert.match(output, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it("renders with its defaults: two Deployments with their budgets, two Services, two identities, the alert receiver's token and NetworkPolicy, its helm test, no optional parts", () => {
    // Given the default values / When the chart renders
    const objects = renderChart({ release: 'km', namespace: 'ops' });
    // Then exactly the core objects
    assert.deepEqual(kindsOf(objects), [
      'ClusterRole/km-kubemedic-decider',
      'ClusterRole/km-kubemedic-decisions-view',
      'ClusterRole/km-kubemedic-pauser',
      'ClusterRole/km-kubemedic-watcher',
      'ClusterRole/km-kubemedic-worker',
      'ClusterRoleBinding/km-kubemedic-watcher',
      'ClusterRoleBinding/km-kubemedic-worker',
      'Deployment/km-kubemedic-watcher',
      'Deployment/km-kubemedic-worker',
      'NetworkPolicy/km-kubemedic-watcher',
      'Pod/km-kubemedic-test-health',
      'PodDisruptionBudget/km-kubemedic-watcher',
      'PodDisruptionBudget/km-kubemedic-worker',
      'Role/km-kubemedic-worker-signing-keys',
      'RoleBinding/km-kubemedic-worker-signing-keys',
      'Secret/km-kubemedic-alert-receiver',
      'Service/km-kubemedic-watcher',
      'Service/km-kubemedic-worker',
      'ServiceAccount/km-kubemedic-watcher',
      'ServiceAccount/km-kubemedic-worker',
      'ValidatingAdmissionPolicy/km-kubemedic-decided-by',
      'ValidatingAdmissionPolicyBinding/km-kubemedic-decided-by',
    ]);
    // And the worker outlives its own shutdown grace, runs restricted, and protects the release namespace
    const worker = deployment(objects, 'worker');
    const env = envOf(worker);
    assert.equal(env.KUBEMEDIC_SHUTDOWN_GRACE, '30 seconds');
    assert.ok(worker.spec.template.spec.terminationGracePeriodSeconds > 30);
    assert.equal(env.KUBEMEDIC_PROTECTED_NAMESPACES, 'ops');
    assert.equal(env.KUBEMEDIC_CLUSTER, 'local');
    for (const component of ['worker', 'watcher']) {
      const spec = deployment(objects, component).spec.template.spec;
      assert.equal(spec.securityContext.runAsNonRoot, true);
      assert.deepEqual(spec.containers[0]!.securityContext, {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
    // And the watcher's Service exposes its metrics and the Alertmanager receiver
    const watcherService = byKind(objects, 'Service').find(
      (o) => o.metadata?.name === 'km-kubemedic-watcher',
    );
    assert.deepEqual(
      (watcherService as unknown as { spec: { ports: { name: string; port: number }[] } }).spec.ports.map(
        (p) => [p.name, p.port],
      ),
      [
        ['metrics', 9465],
        ['alert-webhook', 8091],
      ],
    );
  });

  it('renders every optional part, wired to what the processes read', () => {
    // Given every optional value on / When the chart renders
    const objects = renderChart({ release: 'km', namespace: 'ops', values: everythingOn });
    // Then the ServiceMonitor, the PrometheusRule and the dashboard ConfigMap are there
    assert.equal(byKind(objects, 'ServiceMonitor').length, 1);
    const rule = byKind(objects, 'PrometheusRule')[0] as unknown as { spec: unknown };
    assert.deepEqual(rule.spec, parse(readFileSync(join(chartDir, 'files/alerts.yaml'), 'utf8')));
    const dashboard = byKind(objects, 'ConfigMap')[0] as unknown as {
      metadata: { labels: Record<string, string> };
      data: Record<string, string>;
    };
    assert.equal(dashboard.metadata.labels.grafana_dashboard, '1');
    assert.deepEqual(
      JSON.parse(dashboard.data['kubemedic.json']!),
      JSON.parse(readFileSync(join(chartDir, 'files/dashboard.json'), 'utf8')),
    );
    // And both processes get the Temporal credentials, the worker the limits
    for (const component of ['worker', 'watcher']) {
      const d = deployment(objects, component);
      const env = envOf(d);
      assert.equal(env.TEMPORAL_TLS_CLIENT_CERT_PATH, '/etc/kubemedic/temporal-tls/tls.crt');
      assert.equal(env.TEMPORAL_TLS_CLIENT_KEY_PATH, '/etc/kubemedic/temporal-tls/tls.key');
      assert.equal(env.TEMPORAL_TLS_SERVER_CA_CERT_PATH, '/etc/kubemedic/temporal-tls/ca.crt');
      assert.deepEqual(env.TEMPORAL_API_KEY, { secretKeyRef: { name: 'temporal-key', key: 'api-key' } });
      assert.equal(env.KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT, 'true');
      assert.equal(env.PROMETHEUS_URL, 'http://prometheus.monitoring:9090');
      assert.ok(d.spec.template.spec.volumes.some((v) => v.secret?.secretName === 'temporal-client'));
    }
    const worker = envOf(deployment(objects, 'worker'));
    assert.deepEqual(
      [
        worker.KUBEMEDIC_MAX_CONCURRENT,
        worker.KUBEMEDIC_MAX_PER_HOUR,
        worker.KUBEMEDIC_MAX_CONCURRENT_PER_NAMESPACE,
      ],
      ['5', '10', '2'],
    );
    assert.equal(worker.KUBEMEDIC_PROTECTED_NAMESPACES, 'payments,ops');
    assert.equal(worker.KUBEMEDIC_NAMESPACE, 'ops');
    assert.equal(worker.KUBEMEDIC_WEB_UI_URL, 'https://temporal-ui.example');
    assert.equal(envOf(deployment(objects, 'watcher')).KUBEMEDIC_POLICY_SELECTOR, 'team=shop');
  });

  it('gives each two-replica Deployment a PodDisruptionBudget that evicts one Pod at a time', () => {
    // Given the defaults: two workers, two watchers / When the chart renders
    const objects = renderChart({ release: 'km', namespace: 'ops' });
    for (const component of ['worker', 'watcher']) {
      // Then the component's budget allows one Pod down, and selects exactly its Pods
      const budget = budgetOf(objects, component);
      assert.equal(budget.spec.maxUnavailable, 1);
      assert.deepEqual(
        budget.spec.selector.matchLabels,
        deployment(objects, component).spec.selector.matchLabels,
      );
    }
    // And one replica gets none (a budget could only block drains), nor does a chart told not to
    const single = renderChart({ values: { worker: { replicas: 1 } } });
    assert.deepEqual(byKind(single, 'PodDisruptionBudget').map(componentOf), ['watcher']);
    assert.equal(
      byKind(renderChart({ values: { podDisruptionBudget: { enabled: false } } }), 'PodDisruptionBudget')
        .length,
      0,
    );
    // And a percentage is accepted as the budget, a zero refused
    assert.equal(
      budgetOf(renderChart({ values: { podDisruptionBudget: { maxUnavailable: '50%' } } }), 'worker').spec
        .maxUnavailable,
      '50%',
    );
    assert.throws(
      () => renderChart({ values: { podDisruptionBudget: { maxUnavailable: 0 } } }),
      /podDisruptionBudget\/maxUnavailable/,
    );
  });

  it("renders the alert receiver's NetworkPolicy by default: its port from Alertmanager's namespace only, nothing else restricted", () => {
    // Given the defaults / When the chart renders
    const objects = renderChart({ release: 'km' });
    // Then one NetworkPolicy, the watcher's, selecting its Pods
    const policies = byKind(objects, 'NetworkPolicy') as unknown as NetworkPolicyShape[];
    assert.deepEqual(
      policies.map((p) => p.metadata.name),
      ['km-kubemedic-watcher'],
    );
    const [policy] = policies;
    assert.deepEqual(
      policy!.spec.podSelector.matchLabels,
      deployment(objects, 'watcher').spec.selector.matchLabels,
    );
    // And it admits the receiver's port from the monitoring namespace alone, /metrics from any
    // peer (as without a policy), and leaves egress alone
    assert.deepEqual(policy!.spec.policyTypes, ['Ingress']);
    assert.deepEqual(policy!.spec.ingress, [
      { ports: [{ port: 'metrics' }] },
      {
        ports: [{ port: 'alert-webhook' }],
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      },
    ]);
    // Given other namespaces / Then one peer each
    const two = byKind(
      renderChart({ values: { alertReceiver: { networkPolicy: { allowedNamespaces: ['obs', 'mon'] } } } }),
      'NetworkPolicy',
    ) as unknown as NetworkPolicyShape[];
    assert.deepEqual(
      two[0]!.spec.ingress[1]!.from,
      ['obs', 'mon'].map((name) => ({
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
      })),
    );
    // Given no namespace and no peer / Then the chart refuses rather than admit every peer
    assert.throws(
      () => renderChart({ values: { alertReceiver: { networkPolicy: { allowedNamespaces: [] } } } }),
      /alertReceiver.networkPolicy: name allowedNamespaces or from .*enabled=false/,
    );
    // Given it turned off / Then no NetworkPolicy at all
    assert.equal(
      byKind(
        renderChart({ values: { alertReceiver: { networkPolicy: { enabled: false } } } }),
        'NetworkPolicy',
      ).length,
      0,
    );
  });

  it('renders NetworkPolicies for both components when asked: the served ports from the named peers and helm test', () => {
    // Given networkPolicy on, with peers and egress rules / When the chart renders
    const objects = renderChart({ release: 'km', values: everythingOn });
    const policies = byKind(objects, 'NetworkPolicy') as unknown as NetworkPolicyShape[];
    assert.deepEqual(policies.map((p) => p.metadata.name).sort(), [
      'km-kubemedic-watcher',
      'km-kubemedic-worker',
    ]);
    const helmTest = {
      podSelector: {
        matchLabels: { 'app.kubernetes.io/instance': 'km', 'app.kubernetes.io/component': 'test' },
      },
    };
    const prometheus = everythingOn.networkPolicy.metricsFrom[0];
    for (const policy of policies) {
      const component = policy.metadata.labels['app.kubernetes.io/component']!;
      // Then each selects its component's Pods
      assert.deepEqual(
        policy.spec.podSelector.matchLabels,
        deployment(objects, component).spec.selector.matchLabels,
      );
      // And lets in Prometheus and the helm test Pod on the metrics port, Alertmanager alone on the watcher's receiver
      const expected: IngressRule[] = [{ ports: [{ port: 'metrics' }], from: [prometheus, helmTest] }];
      if (component === 'watcher')
        expected.push({
          ports: [{ port: 'alert-webhook' }],
          from: everythingOn.alertReceiver.networkPolicy.from,
        });
      assert.deepEqual(policy.spec.ingress, expected);
      // And restricts egress to the rules given, and DNS
      assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
      assert.deepEqual(policy.spec.egress, [
        {
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 53, protocol: 'TCP' },
          ],
        },
        ...everythingOn.networkPolicy.egress,
      ]);
    }
    // Given networkPolicy on with no peers and no egress rules, the receiver's policy off / Then
    // any peer reaches the ports, egress is open
    const open = byKind(
      renderChart({
        values: { networkPolicy: { enabled: true }, alertReceiver: { networkPolicy: { enabled: false } } },
      }),
      'NetworkPolicy',
    ) as unknown as NetworkPolicyShape[];
    assert.equal(open.length, 2);
    for (const policy of open) {
      assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
      assert.ok(policy.spec.ingress.every((rule) => rule.from === undefined));
      assert.equal(policy.spec.egress, undefined);
    }
  });

  it("mounts the alert receiver's token from a Secret the chart makes, or the operator's, and runs without one only when told", () => {
    type SecretShape = { metadata: { name: string }; data: Record<string, string> };
    const secrets = (objects: KubernetesObject[]) => byKind(objects, 'Secret') as unknown as SecretShape[];
    const tokenVolume = (d: DeploymentShape) =>
      (
        d.spec.template.spec.volumes as { name: string; secret?: { secretName: string; items?: unknown[] } }[]
      ).find((v) => v.name === 'alert-receiver-credentials');
    // Given the defaults / When the chart renders
    const objects = renderChart({ release: 'km' });
    const watcher = deployment(objects, 'watcher');
    // Then a Secret holds a random 48-character token
    const [secret] = secrets(objects);
    assert.equal(secret?.metadata.name, 'km-kubemedic-alert-receiver');
    const token = Buffer.from(secret.data.token!, 'base64').toString();
    assert.match(token, /^[A-Za-z0-9]{48}$/);
    assert.notEqual(
      Buffer.from(secrets(renderChart({ release: 'km' }))[0]!.data.token!, 'base64').toString(),
      token,
      'a new render without an installed Secret draws a new token',
    );
    // And the watcher requires it, reads it from the mounted Secret, and listens on every interface of its Pod
    const env = envOf(watcher);
    assert.equal(env.KUBEMEDIC_ALERT_RECEIVER_AUTH, 'token');
    assert.equal(env.KUBEMEDIC_ALERT_RECEIVER_TOKEN_FILE, '/var/run/kubemedic/alert-receiver/token');
    assert.equal(env.KUBEMEDIC_ALERT_WEBHOOK_HOST, '0.0.0.0');
    assert.deepEqual(tokenVolume(watcher)?.secret, {
      secretName: 'km-kubemedic-alert-receiver',
      items: [{ key: 'token', path: 'token' }],
    });
    const mounts = (
      watcher.spec.template.spec.containers[0] as { volumeMounts: { name: string; mountPath: string }[] }
    ).volumeMounts;
    assert.ok(
      mounts.some(
        (m) => m.name === 'alert-receiver-credentials' && m.mountPath === '/var/run/kubemedic/alert-receiver',
      ),
    );
    // Given the operator's own Secret / Then the chart makes none and mounts that one's key as the token
    const own = renderChart({ release: 'km', values: everythingOn });
    assert.deepEqual(secrets(own), []);
    assert.deepEqual(tokenVolume(deployment(own, 'watcher'))?.secret, {
      secretName: 'alertmanager-webhook',
      items: [{ key: 'bearer', path: 'token' }],
    });
    // Given auth none, chosen explicitly / Then no Secret, no mount, and the watcher told so
    const none = renderChart({ release: 'km', values: { alertReceiver: { auth: 'none' } } });
    assert.deepEqual(secrets(none), []);
    assert.equal(tokenVolume(deployment(none, 'watcher')), undefined);
    assert.equal(envOf(deployment(none, 'watcher')).KUBEMEDIC_ALERT_RECEIVER_AUTH, 'none');
    assert.equal(envOf(deployment(none, 'watcher')).KUBEMEDIC_ALERT_RECEIVER_TOKEN_FILE, undefined);
    // Given mutual TLS with a certificate Secret / Then no token, and the three files mounted from it
    const mtls = renderChart({
      release: 'km',
      values: { alertReceiver: { auth: 'mtls', tls: { secretName: 'receiver-tls' } } },
    });
    assert.deepEqual(secrets(mtls), []);
    const mtlsEnv = envOf(deployment(mtls, 'watcher'));
    assert.deepEqual(
      [
        mtlsEnv.KUBEMEDIC_ALERT_RECEIVER_AUTH,
        mtlsEnv.KUBEMEDIC_ALERT_RECEIVER_TLS_CERT,
        mtlsEnv.KUBEMEDIC_ALERT_RECEIVER_TLS_KEY,
        mtlsEnv.KUBEMEDIC_ALERT_RECEIVER_CLIENT_CA,
        mtlsEnv.KUBEMEDIC_ALERT_RECEIVER_TOKEN_FILE,
      ],
      [
        'mtls',
        '/var/run/kubemedic/alert-receiver/tls.crt',
        '/var/run/kubemedic/alert-receiver/tls.key',
        '/var/run/kubemedic/alert-receiver/client-ca.crt',
        undefined,
      ],
    );
    assert.deepEqual(tokenVolume(deployment(mtls, 'watcher'))?.secret, {
      secretName: 'receiver-tls',
      items: [
        { key: 'tls.crt', path: 'tls.crt' },
        { key: 'tls.key', path: 'tls.key' },
        { key: 'ca.crt', path: 'client-ca.crt' },
      ],
    });
    // And without the Secret the schema refuses it
    assert.throws(
      () => renderChart({ values: { alertReceiver: { auth: 'mtls' } } }),
      /at '\/alertReceiver\/tls\/secretName'/,
    );
  });

  it('takes nameOverride and fullnameOverride for every name, label and selector', () => {
    for (const [values, prefix, name] of [
      [{ nameOverride: 'medic' }, 'km-medic', 'medic'],
      [{ fullnameOverride: 'healer' }, 'healer', 'kubemedic'],
    ] as const) {
      // Given an override / When the chart renders
      const objects = renderChart({ release: 'km', values });
      // Then every object is named with the prefix (the bindings' subjects too)
      for (const object of objects)
        assert.ok(object.metadata?.name?.startsWith(`${prefix}-`), `${object.kind}/${object.metadata?.name}`);
      for (const component of ['worker', 'watcher']) {
        const d = deployment(objects, component);
        assert.equal(d.metadata.name, `${prefix}-${component}`);
        // And the name label, the Deployment's selector, its Service's and its budget's all agree
        assert.equal(d.spec.selector.matchLabels['app.kubernetes.io/name'], name);
        const service = byKind(objects, 'Service').find((o) => componentOf(o) === component) as unknown as {
          spec: { selector: Record<string, string> };
        };
        for (const selector of [
          d.spec.selector.matchLabels,
          service.spec.selector,
          budgetOf(objects, component).spec.selector.matchLabels,
        ])
          for (const [key, value] of Object.entries(selector))
            assert.equal(d.spec.template.metadata.labels[key], value, key);
      }
      const bindings = byKind(objects, 'ClusterRoleBinding') as unknown as { subjects: { name: string }[] }[];
      assert.deepEqual(bindings.flatMap((b) => b.subjects.map((s) => s.name)).sort(), [
        `${prefix}-watcher`,
        `${prefix}-worker`,
      ]);
    }
    // And an override that cannot name an object is refused
    assert.throws(() => renderChart({ values: { nameOverride: 'Kube_Medic' } }), /at '\/nameOverride'/);
  });

  it("puts podAnnotations, priorityClassName and topologySpreadConstraints on both components' Pods", () => {
    // Given them set / When the chart renders
    const objects = renderChart({ values: everythingOn });
    for (const component of ['worker', 'watcher']) {
      const template = deployment(objects, component).spec.template;
      // Then both Pod templates carry the annotations and the PriorityClass
      assert.deepEqual(template.metadata.annotations, { 'example.com/scrape': 'true' });
      assert.equal(template.spec.priorityClassName, 'kubemedic-critical');
      // And each spreads its own Pods: a constraint without a labelSelector gets the component's
      const own = deployment(objects, component).spec.selector.matchLabels;
      assert.deepEqual(template.spec.topologySpreadConstraints, [
        {
          ...everythingOn[component as 'worker' | 'watcher'].topologySpreadConstraints[0],
          labelSelector: { matchLabels: own },
        },
      ]);
    }
    // And a constraint's own labelSelector is kept
    const mine = { matchLabels: { tier: 'ops' } };
    const kept = renderChart({
      values: {
        worker: {
          topologySpreadConstraints: [
            { maxSkew: 2, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: mine },
          ],
        },
      },
    });
    assert.deepEqual(
      deployment(kept, 'worker').spec.template.spec.topologySpreadConstraints?.[0]?.labelSelector,
      mine,
    );
    // And by default there are none of them
    const plain = deployment(renderChart(), 'worker').spec.template;
    assert.deepEqual(
      [plain.metadata.annotations, plain.spec.priorityClassName, plain.spec.topologySpreadConstraints],
      [undefined, undefined, undefined],
    );
  });

  it("appends each component's extraEnv after the chart's own variables", () => {
    // Given extra variables for each component
    const objects = renderChart({
      values: {
        worker: { extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=768' }] },
        watcher: {
          extraEnv: [{ name: 'HTTPS_PROXY', valueFrom: { secretKeyRef: { name: 'proxy', key: 'url' } } }],
        },
      },
    });
    // Then each is the last of its own container's variables, and the chart's are all still there
    const defaults = renderChart();
    for (const [component, extra] of [
      ['worker', 'NODE_OPTIONS'],
      ['watcher', 'HTTPS_PROXY'],
    ] as const) {
      const env = deployment(objects, component).spec.template.spec.containers[0]!.env ?? [];
      assert.equal(env.at(-1)?.name, extra);
      assert.deepEqual(
        env.slice(0, -1),
        deployment(defaults, component).spec.template.spec.containers[0]!.env,
      );
    }
    assert.throws(
      () => renderChart({ values: { worker: { extraEnv: [{ value: 'no name' }] } } }),
      /extraEnv/,
    );
  });

  it(
    'ships a helm test that passes only when the worker and the watcher answer /healthz',
    { timeout: 60_000 },
    async () => {
      // Given the helm test Pod as rendered
      const pod = byKind(
        renderChart({ release: 'km', namespace: 'ops' }),
        'Pod',
      )[0] as unknown as TestPodShape;
      assert.equal(pod.metadata.annotations['helm.sh/hook'], 'test');
      const container = pod.spec.containers[0]!;
      // Then it asks the worker's and the watcher's Services on their metrics ports
      const urls = container.env.find((e) => e.name === 'KUBEMEDIC_HEALTH_URLS')?.value;
      assert.equal(urls, 'http://km-kubemedic-worker:9464/healthz http://km-kubemedic-watcher:9465/healthz');
      // When its very command runs against two endpoints served as the processes serve /healthz
      // (domain/metrics-server.ts), one healthy and one not
      const healthy = await healthEndpoint(true);
      const sick = await healthEndpoint(false);
      try {
        const check = async (...endpoints: string[]) => {
          const [node, ...flags] = container.command;
          assert.equal(node, 'node');
          return run(process.execPath, [...flags, ...container.args], {
            env: {
              ...process.env,
              KUBEMEDIC_HEALTH_URLS: endpoints.join(' '),
              KUBEMEDIC_HEALTH_WAIT_MS: '0',
            },
          }).then(
            ({ stdout }) => ({ passed: true, stdout }),
            (error: { stdout: string }) => ({ passed: false, stdout: error.stdout }),
          );
        };
        // Then it passes when both answer 200
        const passed = await check(healthy.url, healthy.url);
        assert.ok(passed.passed, passed.stdout);
        // And fails when one answers 503, naming it and its answer
        const failed = await check(healthy.url, sick.url);
        assert.equal(failed.passed, false);
        assert.match(failed.stdout, new RegExp(`FAIL ${sick.url}: 503 the worker is not running`));
        // And fails when nothing answers
        assert.equal((await check('http://127.0.0.1:1/healthz')).passed, false);
      } finally {
        healthy.close();
        sick.close();
      }
    },
  );

  it('scopes every dashboard query to a cluster variable, as multi-cluster Prometheus labels series', () => {
    // Given the dashboard the chart ships
    const dashboard = JSON.parse(readFileSync(join(chartDir, 'files/dashboard.json'), 'utf8')) as {
      templating: {
        list: { name: string; query?: { query: string }; includeAll?: boolean; allValue?: string }[];
      };
      panels: { targets?: { expr: string }[] }[];
    };
    // Then it has a cluster variable whose All matches series without the label (one cluster)
    const variables = dashboard.templating.list;
    const cluster = variables.find((v) => v.name === 'cluster');
    assert.ok(cluster, 'no cluster variable');
    assert.deepEqual([cluster.includeAll, cluster.allValue], [true, '.*']);
    assert.match(cluster.query?.query ?? '', /^label_values\(kubemedic_[a-z_]+, cluster\)$/);
    // And the policies offered are the chosen clusters'
    assert.match(variables.find((v) => v.name === 'policy')?.query?.query ?? '', /\{cluster=~"\$cluster"\}/);
    // And every series selector of every panel is scoped to it
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    assert.ok(exprs.length > 10);
    for (const expr of exprs) {
      const selectors = [...expr.matchAll(/\b(?:kubemedic|temporal)_[a-z_]+(\{[^}]*\})?/g)];
      assert.ok(selectors.length > 0, expr);
      for (const [selector, matchers] of selectors)
        assert.match(matchers ?? '', /cluster=~"\$cluster"/, `${selector} in ${expr}`);
    }
  });

  it("renders with the README's own helm install line", () => {
    // Given the install command the README's "Install on your cluster" gives
    const readme = readFileSync(join(chartDir, '../../README.md'), 'utf8');
    const line = /^\s*(helm install kubemedic (?:[^\n]*\\\n)*[^\n]*)/m.exec(readme)?.[1];
    assert.ok(line, 'the README has no helm install line');
    const args = line.replace(/\\\n/g, ' ').split(/\s+/).filter(Boolean).slice(1);
    // When helm renders it (template instead of install; the namespace is not created)
    const rendered = helm([
      'template',
      ...args
        .slice(1)
        .filter((a) => a !== '--create-namespace')
        .map((a) => (a === 'charts/kubemedic' ? chartDir : a)),
    ]);
    // Then the values it sets reach the processes
    assert.match(rendered, /name: TEMPORAL_ADDRESS\n\s+value: "temporal-frontend\.temporal\.svc:7233"/);
    assert.match(rendered, /name: KUBEMEDIC_CLUSTER\n\s+value: "prod-eu-1"/);
  });

  it(
    'registers the search attributes with a hook Job when asked, in a namespace of a real Temporal',
    { timeout: 120_000 },
    async () => {
      // Given the defaults / Then there is no such Job (it needs the operator API's rights)
      assert.ok(!renderChart().some((o) => o.kind === 'Job'));
      // Given temporal.registerSearchAttributes / When the chart renders
      const job = byKind(renderChart({ values: everythingOn }), 'Job')[0] as unknown as JobShape;
      assert.ok(job, 'no search-attribute Job');
      // Then it runs before the Deployments, on install and on every upgrade
      assert.equal(job.metadata.annotations['helm.sh/hook'], 'pre-install,pre-upgrade');
      const container = job.spec.template.spec.containers[0]!;
      // And connects as the worker does: the same Temporal variables, the same mounted certificates
      const temporalOf = (env: { name: string; value?: string; valueFrom?: unknown }[]) =>
        env.filter((e) => e.name.startsWith('TEMPORAL_'));
      assert.deepEqual(
        temporalOf(container.env),
        temporalOf(
          deployment(renderChart({ values: everythingOn }), 'worker').spec.template.spec.containers[0]!.env ??
            [],
        ),
      );
      assert.ok(job.spec.template.spec.volumes.some((v) => v.secret?.secretName === 'temporal-client'));

      // Given a fresh namespace on the stack's Temporal, without KubeMedic's search attributes
      await ensureStack();
      const connection = await Connection.connect({ address: environment().TEMPORAL_ADDRESS });
      const namespace = `kmt-sa-${randomBytes(3).toString('hex')}`;
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs('1 day'),
      });
      try {
        // When the Job's command runs (from the repository, as the image has it under /app), twice
        const [node, ...flags] = container.command;
        assert.equal(node, 'node');
        const register = () =>
          run(process.execPath, [...flags, ...container.args], {
            cwd: repoRoot,
            env: {
              ...process.env,
              TEMPORAL_ADDRESS: environment().TEMPORAL_ADDRESS,
              TEMPORAL_NAMESPACE: namespace,
            },
          });
        const first = await eventually('the new namespace to take the search attributes', () =>
          register().then(
            (r) => r,
            () => undefined,
          ),
        );
        assert.match(first.stdout, /registered KubeMedicPolicy, /);
        // Then every search attribute KubeMedic upserts is a Keyword of the namespace
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
        for (const key of Object.values(searchAttributes))
          assert.equal(customAttributes[key.name], 2, key.name);
        // And a second run (the next upgrade) finds them there and succeeds
        assert.match((await register()).stdout, /registered none; already there: KubeMedicPolicy/);
      } finally {
        await connection.operatorService.deleteNamespace({ namespace }).catch(() => undefined);
        await connection.close();
      }
    },
  );

  it('sets only environment variables the processes read', () => {
    // Given the variables each process's configuration schema reads (domain/config/)
    const readers = { worker: workerEnvironment.shape, watcher: watcherEnvironment.shape };
    // When the chart renders with everything on
    const objects = renderChart({ values: everythingOn });
    for (const [component, shape] of Object.entries(readers)) {
      // Then every variable it sets is one its configuration reads
      for (const name of Object.keys(envOf(deployment(objects, component)))) {
        assert.ok(name in shape, `the chart sets ${name} for the ${component}, which never reads it`);
      }
    }
  });

  const badValues: [string, Record<string, unknown>, RegExp][] = [
    [
      'a misspelt key',
      { worker: { replica: 3 } },
      /at '\/worker': additional properties 'replica' not allowed/,
    ],
    ['a cluster name that cannot name a task queue', { clusterName: 'Prod_EU' }, /at '\/clusterName'/],
    ['a log level that does not exist', { logLevel: 'LOUD' }, /at '\/logLevel'/],
    ['a limit of zero', { limits: { maxConcurrent: 0 } }, /at '\/limits\/maxConcurrent'/],
    [
      'an address with a scheme',
      { temporal: { address: 'https://temporal:7233' } },
      /at '\/temporal\/address'/,
    ],
    ['TLS without its Secret', { temporal: { tls: { enabled: true } } }, /at '\/temporal\/tls\/secretName'/],
    [
      'an alert receiver authentication that does not exist',
      { alertReceiver: { auth: 'basic' } },
      /at '\/alertReceiver\/auth'/,
    ],
    [
      'an allowed namespace that cannot be one',
      { alertReceiver: { networkPolicy: { allowedNamespaces: ['Monitoring'] } } },
      /at '\/alertReceiver\/networkPolicy\/allowedNamespaces\/0'/,
    ],
  ];
  for (const [what, values, message] of badValues) {
    it(`refuses ${what}, naming the value`, () => {
      // Given bad values / When the chart renders / Then helm refuses with the schema's message
      assert.throws(() => renderChart({ values }), message);
    });
  }

  describe('on the API server', () => {
    const namespace = useTestNamespace('kmchart');

    it('accepts every rendered manifest with a server-side dry run', { timeout: 60_000 }, async () => {
      // Given the CRDs installed and the chart rendered with everything on, into a fresh namespace
      await ensureStack();
      await installCrds(kubeconfig());
      const release = namespace.name; // unique, so the dry run never meets existing ClusterRoles
      const objects = renderChart({ release, namespace: namespace.name, values: everythingOn });
      // The Prometheus Operator's kinds need its CRDs, which the local stack does not serve:
      // prove that they are absent rather than silently skip what could have been checked.
      const api = KubernetesObjectApi.makeApiClient(kubeconfig());
      const operatorKinds = ['ServiceMonitor', 'PrometheusRule'];
      const groups = (await api.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition')).items.map(
        (crd) => (crd as unknown as { spec: { group: string } }).spec.group,
      );
      assert.ok(
        !groups.includes('monitoring.coreos.com'),
        'the stack serves monitoring.coreos.com: dry-run its kinds too',
      );
      // When each of the others is created with dryRun=All
      const checked = objects.filter((o) => !operatorKinds.includes(o.kind ?? ''));
      for (const object of checked) {
        await api.create(object, undefined, 'All').catch((error: unknown) => {
          throw new Error(`${object.kind}/${object.metadata?.name} refused: ${String(error)}`, {
            cause: error,
          });
        });
      }
      // Then all were accepted: every kind but the operator's two
      assert.equal(checked.length, objects.length - operatorKinds.length);
    });

    it("keeps the alert receiver's token across upgrades: the installed Secret's token is rendered again", async () => {
      // Given the chart's Secret as an earlier install left it in the release namespace
      await ensureStack();
      const token = randomBytes(24).toString('hex');
      await kubeconfig()
        .makeApiClient(CoreV1Api)
        .createNamespacedSecret({
          namespace: namespace.name,
          body: { metadata: { name: 'km-kubemedic-alert-receiver' }, stringData: { token } },
        });
      // When the chart renders for the upgrade, reading the cluster as `helm upgrade` does
      const rendered = helm([
        'template',
        'km',
        chartDir,
        '--namespace',
        namespace.name,
        '--dry-run=server',
        '--kubeconfig',
        environment().KUBECONFIG,
      ]);
      // Then the Secret it renders holds the installed token, not a new one
      const secret = parseAllDocuments(rendered)
        .map((document) => document.toJS() as { kind?: string; data?: Record<string, string> } | null)
        .find((object) => object?.kind === 'Secret');
      assert.equal(Buffer.from(secret?.data?.token ?? '', 'base64').toString(), token);
    });

    it('keys status.conditions by type: two writers applying one condition each keep both', async () => {
      // Given the CRDs installed and a policy
      await ensureStack();
      await installCrds(kubeconfig());
      const kind = 'RemediationPolicy';
      const metadata = { name: 'conditions', namespace: namespace.name };
      const spec = deploymentPolicy('web', {
        conditions: [conditions.deploymentUnavailable('down', 1)],
        actions: [scale({ replicas: 3 })],
      });
      await kubeconfig()
        .makeApiClient(CustomObjectsApi)
        .createNamespacedCustomObject({
          group,
          version,
          plural: policyKinds[kind].plural,
          namespace: namespace.name,
          body: { apiVersion: `${group}/${version}`, kind, metadata, spec },
        });
      // When two field managers each apply their own condition to the status
      const path = `${objectPath({ apiVersion: `${group}/${version}`, kind, ...metadata })}/status`;
      const apply = (manager: string, type: string) =>
        kubeRequest(kubeconfig(), {
          method: 'PATCH',
          path,
          query: { fieldManager: manager, force: 'true' },
          contentType: 'application/apply-patch+yaml',
          body: {
            apiVersion: `${group}/${version}`,
            kind,
            metadata,
            status: {
              conditions: [
                {
                  type,
                  status: 'True',
                  reason: 'Test',
                  message: manager,
                  lastTransitionTime: new Date().toISOString(),
                },
              ],
            },
          },
        });
      await apply('writer-a', 'Ready');
      const after = await apply('writer-b', 'Evaluated');
      // Then both are there (an atomic list would hold only the last writer's)
      const types = (after as { status: { conditions: { type: string }[] } }).status.conditions.map(
        (c) => c.type,
      );
      assert.deepEqual(types.sort(), ['Evaluated', 'Ready']);
    });

    it(
      'grants the chart identities what the code uses, and nothing beyond',
      { timeout: 60_000 },
      async () => {
        // Given the chart's roles applied and a token of each of its ServiceAccounts
        await ensureStack();
        const { worker, watcher, namespace: own } = await chartIdentities();
        // When each asks the API server what it may do / Then the answers follow the chart's rules
        const expectations: [KubeConfig, string, V1ResourceAttributes, boolean][] = [
          [worker, 'worker', { verb: 'impersonate', resource: 'serviceaccounts', namespace: 'tenant' }, true],
          [worker, 'worker', { verb: 'impersonate', resource: 'users' }, false],
          [worker, 'worker', { verb: 'impersonate', resource: 'groups' }, false],
          [
            worker,
            'worker',
            { verb: 'create', resource: 'pods', subresource: 'eviction', namespace: 'a' },
            true,
          ],
          [worker, 'worker', { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'a' }, true],
          [
            worker,
            'worker',
            { verb: 'delete', group: 'apps', resource: 'deployments', namespace: 'a' },
            false,
          ],
          // Secrets: only get, only in its own namespace (a cluster policy's signing key)
          [worker, 'worker', { verb: 'get', resource: 'secrets', namespace: own }, true],
          [worker, 'worker', { verb: 'list', resource: 'secrets', namespace: own }, false],
          [worker, 'worker', { verb: 'get', resource: 'secrets', namespace: 'a' }, false],
          [worker, 'worker', { verb: 'watch', resource: 'secrets' }, false],
          [
            worker,
            'worker',
            { verb: 'update', resource: 'remediationpolicies', group: 'remediation.kubemedic.io' },
            false,
          ],
          [watcher, 'watcher', { verb: 'watch', group: 'apps', resource: 'deployments' }, true],
          [
            watcher,
            'watcher',
            { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'a' },
            false,
          ],
          [
            watcher,
            'watcher',
            { verb: 'impersonate', resource: 'serviceaccounts', namespace: 'tenant' },
            false,
          ],
          [watcher, 'watcher', { verb: 'delete', resource: 'pods', namespace: 'a' }, false],
          // Pods go only by eviction, which PodDisruptionBudgets govern; never by a plain delete
          [worker, 'worker', { verb: 'delete', resource: 'pods', namespace: 'a' }, false],
          [watcher, 'watcher', { verb: 'get', resource: 'secrets', namespace: 'a' }, false],
        ];
        for (const [config, who, attributes, allowed] of expectations) {
          const review = await config.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
            body: { spec: { resourceAttributes: attributes } },
          });
          assert.equal(review.status?.allowed, allowed, `${who} ${JSON.stringify(attributes)}`);
        }
      },
    );
  });

  it('has no wildcard in its RBAC, and impersonates ServiceAccounts only', () => {
    // Given the chart rendered with everything on
    const roles = renderChart({ values: everythingOn }).filter(
      (o) => o.kind === 'ClusterRole' || o.kind === 'Role',
    );
    const rules: RbacRule[] = roles.flatMap(rulesOf);
    assert.ok(rules.length > 0);
    // And no ClusterRole reaches Secrets: only a Role in the release namespace does
    for (const role of roles.filter((o) => o.kind === 'ClusterRole')) {
      assert.ok(!rulesOf(role).some((r) => r.resources?.includes('secrets')), role.metadata?.name);
    }
    for (const rule of rules) {
      // Then no rule names '*' anywhere, nor non-resource URLs
      for (const list of [rule.apiGroups, rule.resources, rule.verbs, rule.resourceNames ?? []]) {
        assert.ok(!list?.some((entry) => entry.includes('*')), `wildcard in ${JSON.stringify(rule)}`);
      }
      assert.equal(rule.nonResourceURLs, undefined);
      // And Secrets can only be read one by one, by name (notification signing keys)
      if (rule.resources?.includes('secrets')) {
        assert.deepEqual(rule, { apiGroups: [''], resources: ['secrets'], verbs: ['get'] });
      }
      // And impersonate appears only alone, on core serviceaccounts
      if (rule.verbs.includes('impersonate')) {
        assert.deepEqual(rule, { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] });
      }
    }
    assert.ok(rules.some((r) => r.verbs.includes('impersonate')));
  });
});

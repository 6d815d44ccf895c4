/**
 * The Helm chart: it lints, renders with its defaults and with every optional part on, refuses
 * bad values through values.schema.json, renders manifests the real API server accepts
 * (server-side dry run), and its RBAC is least privilege — checked in the rendered rules and
 * again on the API server, as the chart's own ServiceAccounts.
 * (That the chart's CRDs are what api/policy.ts generates is test/unit/crds.test.ts.)
 */
import {
  AuthorizationV1Api,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  type V1ResourceAttributes,
} from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { installCrds } from '../../devstack/crds.ts';
import { watcherEnvironment } from '../../domain/config/watcher.ts';
import { workerEnvironment } from '../../domain/config/worker.ts';
import { chartDir, chartIdentities, helm, type RbacRule, renderChart, rulesOf } from '../support/chart.ts';
import { ensureStack, kubeconfig, useTestNamespace } from '../support/stack.ts';

const everythingOn = {
  metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } },
  grafanaDashboard: { enabled: true },
  temporal: {
    tls: { enabled: true, secretName: 'temporal-client' },
    apiKey: { secretName: 'temporal-key' },
    webUiUrl: 'https://temporal-ui.example',
  },
  limits: { maxConcurrent: 5, maxPerHour: 10, maxConcurrentPerNamespace: 2 },
  requireServiceAccount: true,
  protectedNamespaces: ['payments'],
  prometheusUrl: 'http://prometheus.monitoring:9090',
  watcher: { policySelector: 'team=shop' },
};

const kindsOf = (objects: KubernetesObject[]) => objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort();
const byKind = (objects: KubernetesObject[], kind: string) => objects.filter((o) => o.kind === kind);
type Container = {
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  securityContext?: Record<string, unknown>;
};
type DeploymentShape = {
  spec: {
    template: {
      spec: {
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

describe('the Helm chart', () => {
  it('passes helm lint --strict, values.schema.json included', () => {
    // Given the chart as committed / When helm lints it / Then no error and no warning
    const output = helm(['lint', chartDir, '--strict']);
    assert.match(output, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('renders with its defaults: two Deployments, two Services, two identities, no optional parts', () => {
    // Given the default values / When the chart renders
    const objects = renderChart({ release: 'km', namespace: 'ops' });
    // Then exactly the core objects
    assert.deepEqual(kindsOf(objects), [
      'ClusterRole/km-kubemedic-watcher',
      'ClusterRole/km-kubemedic-worker',
      'ClusterRoleBinding/km-kubemedic-watcher',
      'ClusterRoleBinding/km-kubemedic-worker',
      'Deployment/km-kubemedic-watcher',
      'Deployment/km-kubemedic-worker',
      'Role/km-kubemedic-worker-signing-keys',
      'RoleBinding/km-kubemedic-worker-signing-keys',
      'Service/km-kubemedic-watcher',
      'Service/km-kubemedic-worker',
      'ServiceAccount/km-kubemedic-watcher',
      'ServiceAccount/km-kubemedic-worker',
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
      assert.equal(env.TEMPORAL_TLS_CERT, '/etc/kubemedic/temporal-tls/tls.crt');
      assert.equal(env.TEMPORAL_TLS_KEY, '/etc/kubemedic/temporal-tls/tls.key');
      assert.equal(env.TEMPORAL_TLS_CA, '/etc/kubemedic/temporal-tls/ca.crt');
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

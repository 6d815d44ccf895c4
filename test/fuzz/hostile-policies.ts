/**
 * Generators of hostile policies for the fuzz suite (policies.test.ts): a valid policy of either
 * kind, then one to four mutations, each the kind of input issue 9 lists — names that try to
 * leave their namespace, URLs aimed at the metadata address or loopback, RunJob templates that
 * ask for the host, regexes RE2 cannot compile or that backtrack, durations and numbers out of
 * range, unicode, fields missing, fields extra, values of the wrong type.
 *
 * The mutations keep close to valid on purpose: a policy every rule refuses tests only the first
 * rule. Many of the values below are valid, so a good share of the policies reach the watcher.
 * Every valid base targets only the fuzz namespace (and a cluster policy's Node target one that
 * does not exist), so whatever fires stays inside the test.
 */
import fc from 'fast-check';
import type { PolicyKind } from '../../api/policy.ts';
import { conditions, scale } from '../support/policy-builder.ts';

/** One generated policy: its kind, a name suffix-free, its spec and what was done to it. */
export interface FuzzedPolicy {
  kind: PolicyKind;
  /** A hostile metadata.name, when one of the mutations chose one. */
  name?: string;
  spec: Record<string, unknown>;
  mutations: string[];
}

const repeat = (text: string, times: number) => text.repeat(times);

/** Mostly valid, sometimes hostile: one bad field refuses the whole policy, and most must get past admission. */
const sometimes = <T>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 2, arbitrary: valid }, { weight: 1, arbitrary: hostile });

/** Names: path traversal, encodings, case, control and bidi characters, length, and valid ones. */
const badName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '../../victim/horizontalpodautoscalers/web',
    '..',
    '.',
    '',
    'a/b',
    'a%2Fb',
    '%2e%2e',
    'Web',
    'a_b',
    '-a',
    'a-',
    'a..b',
    repeat('a', 254),
    repeat('a', 64),
    'ｗｅｂ',
    'web\u0000',
    'web\n',
    ' web',
    '\u202eevil',
    'wéb',
    '😀',
    'web?x=1',
    'web#x',
    'kube-system',
    'default',
  ),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,30}[a-z0-9])?$/),
);

export const hostileName = sometimes(fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,30}[a-z0-9])?$/), badName);

/** URLs: the metadata address, loopback in its spellings, cluster names, schemes that are not http, junk. */
const badUrl: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://[::ffff:169.254.169.254]/',
    'http://[fd00:ec2::254]/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://127.0.0.1:6443/api',
    'http://127.1/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://localhost:9090/api/v1/admin/tsdb/delete_series',
    'http://[::1]/',
    'http://0.0.0.0/',
    'http://kubernetes.default.svc/api/v1/secrets',
    'http://10.0.0.1/',
    'https://user:password@example.com/',
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_FLUSHALL',
    'javascript:alert(1)',
    'http://',
    'http:/x',
    '//example.com/',
    'http://exa mple.com/',
    'http://example.com/\r\nX-Injected: 1',
    'http://кириллица.рф/',
    'HTTP://EXAMPLE.COM/',
    'http://example.com/' + repeat('a', 3000),
    'http://%00/',
    'https://example.com/hook',
  ),
  fc.webUrl(),
  fc.string({ unit: 'binary', maxLength: 60 }).map((rest) => `http://${rest}`),
);

export const hostileUrl = sometimes(
  fc.constantFrom('https://hooks.example.com/x', 'http://receiver.example:8080/'),
  badUrl,
);

/** Durations: zero, negative, fractions PromQL refuses, units Go lacks, out of bounds, unicode digits. */
const badDuration: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '0s',
    '0',
    '-1s',
    '1.5m',
    '1d',
    '1w',
    '1h30m',
    '90s',
    '999999999h',
    '720h1s',
    '168h',
    '169h',
    '1e3s',
    '',
    's',
    ' 1s',
    '١s',
    '1µs',
    '1ns',
    '99ms',
    '100ms',
    'P1D',
    'NaN',
    '1s' + repeat('0', 40),
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 12 }),
);

export const hostileDuration = sometimes(fc.constantFrom('5s', '30s', '5m', '1h30m', '2h'), badDuration);

/** Numbers (and what JSON makes of NaN and Infinity: null), strings and booleans where numbers go. */
const badNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    0,
    -1,
    1,
    2,
    0.5,
    -0,
    1e308,
    -1e308,
    2 ** 53 + 2,
    2 ** 31,
    10,
    10.0001,
    101,
    null,
    '3',
    true,
  ),
  fc.integer(),
  fc.double(),
);

export const hostileNumber = sometimes<unknown>(fc.integer({ min: 1, max: 5 }), badNumber);

/** Alertmanager matchers: RE2 refusals (lookaround, backreferences), backtracking bombs, bad syntax, long unicode. */
export const hostileMatcher: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'alertname=~"(a+)+$"',
    'alertname=~"(?=x)y"',
    'alertname=~"(?!x)y"',
    'alertname=~"(?<=x)y"',
    'alertname=~"(a)\\\\1"',
    'alertname=~"("',
    'alertname=~"[z-a]"',
    'alertname=~"\\\\p{L}+"',
    'alertname=~"(?<name>x)"',
    'alertname=~"(?P<name>x)"',
    'alertname=~"a++"',
    'alertname=~"x{1001}"',
    'alertname=~"x{2,1}"',
    'alertname=~"' + repeat('(', 300) + '"',
    'alertname=~"' + repeat('é', 1000) + '"',
    'alertname=~"(?=' + repeat('é', 900) + ')"',
    // Go's \\s is ASCII only, JavaScript's is not: the API server and the watcher disagree on these.
    'alertname=a\u00a0b',
    'alertname="x"\u00a0',
    'alertname=~"' + repeat('(?:a|b)', 100) + '"',
    'alertname!~"\\\\"',
    'alertname="\\u0000"',
    'alertname="web"',
    'severity=~"crit.*"',
    '=x',
    'alertname',
    'alertname=~',
    '0a="x"',
    'a="' + repeat('😀', 600) + '"',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }).map((regex) => `alertname=~"${regex}"`),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

/** Regexes the matcher's form admits but RE2 refuses: lookaround, backreferences, possessive and huge repeats. */
const re2Refused: fc.Arbitrary<string> = fc
  .tuple(
    fc.stringMatching(/^[a-z]{0,6}$/),
    fc.constantFrom(
      '(?=x)',
      '(?!x)',
      '(?<=x)',
      '(?<!x)',
      '(a)\\\\1',
      'a++',
      'a*+',
      'x{1001}',
      '(',
      '[z-a]',
      '\\\\',
    ),
    fc.stringMatching(/^[a-z]{0,6}$/),
  )
  .map(([before, bad, after]) => `alertname=~"${before}${bad}${after}"`);

/** Free text in unicode: PromQL queries, label names, quantities. */
const unicodeText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom('up', 'sum(rate(x[1.5m]))', '{__name__=~".+"}', '\u202e', repeat('x', 5000)),
);

/** Any JSON value, for type confusion and extra fields. */
const anyJson = fc.jsonValue({ maxDepth: 3 });

/** Some of a record's keys: the ones left out are the "missing fields". */
const someOf = <T extends Record<string, unknown>>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
  fc.record(model, { requiredKeys: [] });

/** A RunJob template that asks for the host, privilege, another identity, or is not a template at all. */
export const hostileJobTemplate: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: someOf({
      hostNetwork: fc.boolean(),
      hostPID: fc.boolean(),
      hostIPC: fc.boolean(),
      nodeName: fc.constantFrom('control-plane', 'kwok-node-0', ''),
      serviceAccountName: hostileName,
      automountServiceAccountToken: fc.boolean(),
      volumes: fc.array(
        fc.oneof(
          fc.constant({ name: 'root', hostPath: { path: '/' } }),
          fc.constant({ name: 'sock', hostPath: { path: '/var/run/docker.sock', type: 'Socket' } }),
          fc.constant({ name: 'tmp', emptyDir: {} }),
          anyJson,
        ),
        { maxLength: 3 },
      ),
      containers: fc.array(
        someOf({
          name: hostileName,
          image: fc.constantFrom('busybox', '', 'evil.example/x@sha256:00'),
          securityContext: someOf({
            privileged: fc.boolean(),
            allowPrivilegeEscalation: fc.boolean(),
            runAsUser: fc.constantFrom(0, 1000),
            runAsNonRoot: fc.boolean(),
            capabilities: fc.constantFrom(
              { add: ['SYS_ADMIN'] },
              { add: 'SYS_ADMIN' },
              { add: ['NET_BIND_SERVICE'] },
              { drop: ['ALL'] },
            ),
          }),
        }),
        { maxLength: 2 },
      ),
      initContainers: fc.constantFrom([
        { name: 'init', image: 'busybox', securityContext: { privileged: true } },
      ]),
      ephemeralContainers: fc.constantFrom([{ name: 'debug', image: 'busybox' }]),
    }).map((podSpec) => ({ template: { spec: podSpec } })),
  },
  { weight: 1, arbitrary: anyJson },
);

/** One action: every type, its block's values hostile, blocks sometimes missing or doubled. */
const hostileAction: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    type: fc.constant('Scale'),
    scale: someOf({
      replicas: hostileNumber,
      factor: hostileNumber,
      maxReplicas: hostileNumber,
      maxFactor: hostileNumber,
    }),
  }),
  fc.record({
    type: fc.constant('AdjustHPA'),
    adjustHPA: someOf({ name: hostileName, minReplicas: hostileNumber, maxReplicas: hostileNumber }),
  }),
  fc.record({
    type: fc.constant('UpdateResources'),
    updateResources: someOf({
      container: hostileName,
      requests: fc.dictionary(unicodeText, unicodeText, { maxKeys: 2 }),
      limits: fc.constantFrom({ cpu: '1' }, { memory: '-1Gi' }, { cpu: 'NaN' }),
    }),
  }),
  fc.record({
    type: fc.constant('Webhook'),
    webhook: someOf({ url: hostileUrl, rollbackUrl: hostileUrl, timeout: hostileDuration }),
  }),
  fc.record({
    type: fc.constant('RunJob'),
    runJob: someOf({ template: hostileJobTemplate, timeout: hostileDuration }),
  }),
  fc.record(
    {
      type: fc.constantFrom('RestartPod', 'RolloutRestart', 'DrainNode', 'CordonNode', 'Delete', 'scale', ''),
      timeout: hostileDuration,
      drainNode: someOf({ timeout: hostileDuration }),
      scale: fc.constant({ replicas: 2 }),
    },
    { requiredKeys: ['type'] },
  ),
);

/** The block each source needs, with hostile values in it. */
const conditionBlocks = {
  Prometheus: someOf({
    query: unicodeText,
    shorthand: fc.constantFrom('CPU', 'Memory', 'ErrorRate', 'Restarts', 'Disk'),
    window: hostileDuration,
  }),
  Kubernetes: fc.record(
    {
      state: fc.constantFrom('Restarts', 'CrashLoopBackOff', 'NodeNotReady', 'PodPending', 'Exploded'),
      window: hostileDuration,
      per: fc.constantFrom('Pod', 'Workload', 'Cluster'),
    },
    { requiredKeys: ['state'] },
  ),
  Metrics: someOf({ resource: fc.constantFrom('CPU', 'GPU'), against: fc.constantFrom('Requests', 'Nope') }),
  Alertmanager: fc.record(
    { matchers: fc.array(hostileMatcher, { minLength: 0, maxLength: 3 }), targetLabel: unicodeText },
    { requiredKeys: ['matchers'] },
  ),
} as const;
const sourceBlock = {
  Prometheus: 'prometheus',
  Kubernetes: 'kubernetes',
  Metrics: 'metrics',
  Alertmanager: 'alertmanager',
} as const;

/**
 * One condition: a source and its block (now and then another source's block, or none), a name,
 * an operator, a threshold and a `for`, each sometimes hostile.
 */
const hostileCondition: fc.Arbitrary<unknown> = fc
  .record({
    source: fc.constantFrom(...(Object.keys(conditionBlocks) as (keyof typeof conditionBlocks)[])),
    blockOf: fc.constantFrom('own', 'own', 'own', 'own', 'other', 'none'),
    fields: someOf({
      name: hostileName,
      operator: fc.constantFrom('>', '>=', '==', '=~', ''),
      for: hostileDuration,
    }),
    threshold: hostileNumber,
  })
  .chain(({ source, blockOf, fields, threshold }) => {
    const blockSource = blockOf === 'other' ? (source === 'Metrics' ? 'Kubernetes' : 'Metrics') : source;
    return (conditionBlocks[blockSource] as fc.Arbitrary<unknown>).map((block) => ({
      name: 'c',
      ...fields,
      source,
      threshold,
      ...(blockOf === 'none' ? {} : { [sourceBlock[blockSource]]: block }),
    }));
  });

const hostileSink = someOf({
  type: fc.constantFrom('Webhook', 'Slack', 'Email'),
  url: hostileUrl,
  secretRef: someOf({ name: hostileName, key: unicodeText }),
  events: fc.constantFrom(
    ['Succeeded'],
    [],
    ['Exploded'],
    ['Failed', 'Failed', 'Failed', 'Failed', 'Failed', 'Failed', 'Failed', 'Failed'],
  ),
});

/**
 * What a mutation does to a spec: set a value at a path (creating the objects on the way),
 * delete one, or add a field the schema does not know.
 */
type Mutation = { what: string; apply(spec: Record<string, unknown>, kind: PolicyKind): void };

const setAt = (path: (string | number)[], value: unknown) => (spec: Record<string, unknown>) => {
  let node: Record<string | number, unknown> = spec;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = (node[key] = typeof next === 'object' && next !== null ? next : {}) as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
};
const deleteAt = (path: (string | number)[]) => (spec: Record<string, unknown>) => {
  let node: unknown = spec;
  for (const key of path.slice(0, -1)) node = (node as Record<string | number, unknown> | undefined)?.[key];
  if (typeof node === 'object' && node !== null)
    delete (node as Record<string | number, unknown>)[path.at(-1)!];
};
const set = (path: (string | number)[], values: fc.Arbitrary<unknown>): fc.Arbitrary<Mutation> =>
  values.map((value) => ({ what: `set ${path.join('.')}=${short(value)}`, apply: setAt(path, value) }));

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  set(['target', 'name'], hostileName),
  set(['target', 'kind'], fc.constantFrom('Deployment', 'Pod', 'Node', 'Secret', 'deployment')),
  set(['target', 'namespaces'], fc.array(hostileName, { maxLength: 3 })),
  set(['target', 'selector'], fc.oneof(fc.constant({ matchLabels: { app: 'x' } }), anyJson)),
  set(['serviceAccountName'], hostileName),
  set(['evaluationInterval'], hostileDuration),
  set(['cooldown'], hostileDuration),
  set(['actions', 0], hostileAction),
  set(['actions', 1], hostileAction),
  set(
    ['actions'],
    fc.oneof(
      fc.constant([]),
      fc.array(fc.constant({ type: 'Scale', scale: { replicas: 1 } }), { minLength: 9, maxLength: 9 }),
    ),
  ),
  set(['conditions', 0], hostileCondition),
  set(['conditions', 1], hostileCondition),
  // Regexes get a mutation of their own, three times as likely: only the watcher can tell what
  // RE2 cannot compile.
  {
    weight: 3,
    arbitrary: set(
      ['conditions', 0],
      fc.array(fc.oneof(hostileMatcher, re2Refused), { minLength: 1, maxLength: 2 }).map((matchers) => ({
        name: 'alert',
        source: 'Alertmanager',
        alertmanager: { matchers },
        threshold: 0,
      })),
    ),
  },
  set(['conditions', 0, 'threshold'], hostileNumber),
  set(['conditions', 0, 'for'], hostileDuration),
  set(['notifications'], fc.array(hostileSink, { maxLength: 2 })),
  set(
    ['approval'],
    someOf({ required: anyJson, timeout: hostileDuration, onTimeout: fc.constantFrom('Approve', 'Maybe') }),
  ),
  set(
    ['verification'],
    someOf({
      settle: hostileDuration,
      readings: hostileNumber,
      failureLimit: hostileNumber,
      interval: hostileDuration,
      onNoData: fc.constantFrom('Pass', 'Shrug'),
    }),
  ),
  set(
    ['revertAfter'],
    someOf({
      after: hostileDuration,
      mode: fc.constantFrom('Gradual', 'Later'),
      steps: hostileNumber,
      interval: hostileDuration,
    }),
  ),
  set(
    ['limits'],
    someOf({ maxConcurrent: hostileNumber, maxPerHour: hostileNumber, attemptsWindow: hostileDuration }),
  ),
  set(
    ['blastRadius'],
    someOf({
      maxUnhealthy: hostileNumber,
      maxUnhealthyPercent: hostileNumber,
      stormCooldown: hostileDuration,
    }),
  ),
  set(['match'], fc.constantFrom('Any', 'None', 1)),
  fc
    .constantFrom(
      'target',
      'conditions',
      'actions',
      'target.kind',
      'conditions.0.threshold',
      'conditions.0.source',
      'actions.0.type',
      'actions.0.scale',
    )
    .map((path): Mutation => ({
      what: `delete ${path}`,
      apply: deleteAt(path.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k))),
    })),
  fc
    .tuple(
      fc.constantFrom([], ['target'], ['conditions', 0], ['actions', 0]),
      fc.oneof(
        fc.constantFrom('__proto__', 'constructor', 'status', 'x-kubernetes'),
        fc.string({ maxLength: 10 }),
      ),
      anyJson,
    )
    .map(([path, key, value]): Mutation => ({
      what: `extra ${[...path, key].join('.')}`,
      apply: setAt([...path, key], value),
    })),
  fc
    .constantFrom(...(['target', 'conditions', 'actions', 'suspend', 'dryRun'] as const))
    .chain((path) => set([path], anyJson)),
);

/** The valid policy each generated one starts from: a Deployment in the fuzz namespace, nothing that fires. */
function baseSpec(kind: PolicyKind, namespace: string): Record<string, unknown> {
  return {
    target:
      kind === 'RemediationPolicy'
        ? { kind: 'Deployment', name: 'fuzz-target' }
        : { kind: 'Deployment', name: 'fuzz-target', namespaces: [namespace] },
    // Evaluated once when it appears; the suite deletes it long before a second evaluation.
    evaluationInterval: '1h',
    conditions: [conditions.deploymentUnavailable('down', 1)],
    actions: [scale({ replicas: 2 })],
    cooldown: '1s',
  };
}

/** A generated policy: a kind, maybe a hostile name, a valid base and one to four mutations. */
export function hostilePolicy(namespace: string): fc.Arbitrary<FuzzedPolicy> {
  return fc
    .record({
      kind: fc.constantFrom<PolicyKind>('RemediationPolicy', 'ClusterRemediationPolicy'),
      name: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: badName }),
      mutations: fc.oneof(
        { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 2 }) },
        { weight: 1, arbitrary: fc.array(mutation, { minLength: 3, maxLength: 4 }) },
      ),
    })
    .map(({ kind, name, mutations }) => {
      const spec = baseSpec(kind, namespace);
      for (const m of mutations) m.apply(spec, kind);
      // A cluster policy must never reach past the fuzz namespace, whatever its target became.
      if (kind === 'ClusterRemediationPolicy') confine(spec, namespace);
      return { kind, name, spec, mutations: mutations.map((m) => m.what) };
    });
}

/**
 * A cluster policy's namespaces are the fuzz namespace (when they are a list of names at all:
 * a hostile one stays, the API server refuses it), and a namespaceSelector is never kept: it
 * could select every namespace of the shared stack.
 */
function confine(spec: Record<string, unknown>, namespace: string): void {
  const target = spec.target;
  if (typeof target !== 'object' || target === null || Array.isArray(target)) return;
  const t = target as Record<string, unknown>;
  delete t.namespaceSelector;
  if (Array.isArray(t.namespaces)) {
    const valid = (n: unknown) =>
      typeof n === 'string' && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n) && n.length <= 63;
    t.namespaces = t.namespaces.map((n) => (valid(n) ? namespace : n));
  }
  // A Node target by selector would match the stack's nodes (other tests' KWOK nodes).
  if (t.kind === 'Node') delete t.selector;
}

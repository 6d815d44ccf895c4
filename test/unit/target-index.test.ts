/**
 * The watcher's indexes answer as the scan they replace: for random clusters (namespaces,
 * Deployments, Pods and Nodes with random labels), random policies (named or selected targets,
 * matchLabels and every expression operator, namespaced and cluster-wide) and random changes
 * (relabelled, deleted, re-added objects), `targetsOf` over the indexes gives the same targets
 * and Pods as a plain scan over every object, and `concerns` says a change concerns a policy
 * exactly when the scan finds the changed object among its targets or their Pods.
 */
import type { KubernetesObject, V1LabelSelector } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectorMatches } from '../../api/label-selector.ts';
import type { PolicySpec, TargetKind } from '../../api/policy.ts';
import { ObjectIndex } from '../../policy-watcher/object-index.ts';
import type { CheckedPolicy } from '../../policy-watcher/policies.ts';
import { type Caches, concerns, type IndexedKind, targetsOf } from '../../policy-watcher/targets.ts';

/** A small deterministic PRNG (mulberry32), so a failure names a seed that reproduces it. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]) => items[int(items.length)]!;
  return { next, int, pick };
}
type Random = ReturnType<typeof random>;

const keys = ['app', 'tier', 'team'];
const values = ['a', 'b', 'c'];
const namespaces = ['ns-0', 'ns-1', 'ns-2'];

function labels(r: Random): Record<string, string> {
  return Object.fromEntries(keys.filter(() => r.next() < 0.6).map((k) => [k, r.pick(values)]));
}

function selector(r: Random): V1LabelSelector {
  const operators = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
  return {
    matchLabels: r.next() < 0.6 ? { [r.pick(keys)]: r.pick(values) } : undefined,
    matchExpressions: Array.from({ length: r.int(3) }, () => ({
      key: r.pick(keys),
      operator: r.pick(operators),
      values: [r.pick(values), r.pick(values)],
    })).map((e) => (e.operator === 'In' || e.operator === 'NotIn' ? e : { ...e, values: undefined })),
  };
}

const meta = (r: Random, name: string, namespace?: string) => ({
  name,
  namespace,
  uid: name,
  labels: labels(r),
  deletionTimestamp: r.next() < 0.05 ? new Date(0) : undefined,
});

function object(r: Random, kind: IndexedKind, i: number): KubernetesObject {
  switch (kind) {
    case 'Namespace':
      return { metadata: meta(r, namespaces[i % namespaces.length]!) };
    case 'Node':
      return { metadata: meta(r, `node-${i}`) };
    case 'Pod':
      return { metadata: meta(r, `pod-${i}`, r.pick(namespaces)) };
    default:
      return {
        metadata: meta(r, `${kind.toLowerCase()}-${i}`, r.pick(namespaces)),
        spec: { selector: selector(r) },
      } as KubernetesObject;
  }
}

function policy(r: Random): CheckedPolicy {
  const cluster = r.next() < 0.5;
  const kind: TargetKind = r.pick(cluster ? ['Deployment', 'Pod', 'Node'] : ['Deployment', 'Pod']);
  const named = r.next() < 0.3;
  const target = {
    kind,
    ...(named ? { name: `${kind.toLowerCase()}-${r.int(20)}` } : { selector: selector(r) }),
    ...(cluster && kind !== 'Node'
      ? r.next() < 0.5
        ? { namespaces: [r.pick(namespaces), r.pick(namespaces)] }
        : { namespaceSelector: selector(r) }
      : {}),
  };
  const source = r.next() < 0.8 ? 'Kubernetes' : 'Prometheus';
  return {
    ref: {
      kind: cluster ? 'ClusterRemediationPolicy' : 'RemediationPolicy',
      namespace: cluster ? undefined : r.pick(namespaces),
      name: 'p',
      uid: 'p',
      generation: 1,
    },
    spec: { target, conditions: [{ name: 'c', source }] } as unknown as PolicySpec,
  };
}

/** The cluster twice: as plain lists (what the scan reads) and as the watcher's indexes. */
class Cluster implements Caches {
  readonly objects = new Map<IndexedKind, Map<string, KubernetesObject>>();
  private readonly indexes = new Map<IndexedKind, ObjectIndex>();
  index(kind: IndexedKind): ObjectIndex {
    if (!this.indexes.has(kind)) this.indexes.set(kind, new ObjectIndex());
    return this.indexes.get(kind)!;
  }
  list(kind: IndexedKind): KubernetesObject[] {
    return [...(this.objects.get(kind)?.values() ?? [])];
  }
  upsert(kind: IndexedKind, o: KubernetesObject) {
    if (!this.objects.has(kind)) this.objects.set(kind, new Map());
    this.objects.get(kind)!.set(`${o.metadata?.namespace}/${o.metadata?.name}`, o);
    this.index(kind).upsert(o);
  }
  remove(kind: IndexedKind, o: KubernetesObject) {
    this.objects.get(kind)?.delete(`${o.metadata?.namespace}/${o.metadata?.name}`);
    this.index(kind).remove(o);
  }
}

/** The scan the indexes replace: every object of the kind for the targets, every Pod for each target. */
function scannedTargets(p: CheckedPolicy, cluster: Cluster) {
  const target = p.spec.target;
  const scope =
    target.kind === 'Node'
      ? undefined
      : p.ref.kind === 'RemediationPolicy'
        ? [p.ref.namespace!]
        : (target.namespaces ??
          cluster
            .list('Namespace')
            .filter((ns) => selectorMatches(target.namespaceSelector, ns.metadata?.labels))
            .map((ns) => ns.metadata!.name!));
  return cluster
    .list(target.kind)
    .filter((o) => scope === undefined || scope.includes(o.metadata?.namespace ?? ''))
    .filter((o) =>
      target.name ? o.metadata?.name === target.name : selectorMatches(target.selector, o.metadata?.labels),
    )
    .filter((o) => o.metadata?.deletionTimestamp === undefined)
    .map((o) => ({
      name: `${o.metadata?.namespace}/${o.metadata?.name}`,
      pods:
        target.kind === 'Node'
          ? []
          : target.kind === 'Pod'
            ? [o]
            : cluster
                .list('Pod')
                .filter(
                  (pod) =>
                    pod.metadata?.namespace === o.metadata?.namespace &&
                    selectorMatches(
                      (o as { spec?: { selector?: V1LabelSelector } }).spec?.selector,
                      pod.metadata?.labels,
                    ),
                ),
    }));
}

const sorted = (names: string[]) => [...names].sort();
const names = (objects: KubernetesObject[]) =>
  sorted(objects.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`));

function compare(p: CheckedPolicy, cluster: Cluster, seed: number): void {
  const expected = scannedTargets(p, cluster).sort((a, b) => a.name.localeCompare(b.name));
  const actual = targetsOf(p, cluster)
    .map((t) => ({ name: `${t.ref.namespace}/${t.ref.name}`, pods: t.pods }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const context = `seed ${seed}, policy ${JSON.stringify(p)}`;
  assert.deepEqual(
    actual.map((t) => t.name),
    expected.map((t) => t.name),
    `targets, ${context}`,
  );
  for (const [i, t] of actual.entries())
    assert.deepEqual(names(t.pods), names(expected[i]!.pods), `pods of ${t.name}, ${context}`);
}

/** What `concerns` must say: the object is a target, or one of a target's Pods (deleting ones included). */
function expectedConcern(p: CheckedPolicy, kind: IndexedKind, o: KubernetesObject, cluster: Cluster) {
  if (!p.spec.conditions.some((c) => c.source === 'Kubernetes')) return false;
  const key = `${o.metadata?.namespace}/${o.metadata?.name}`;
  const live = (x: KubernetesObject) => ({ ...x, metadata: { ...x.metadata, deletionTimestamp: undefined } });
  const withDeleting = new Cluster();
  for (const k of ['Namespace', 'Node', 'Pod', 'Deployment'] as const)
    for (const x of cluster.list(k)) withDeleting.upsert(k, live(x));
  const targets = scannedTargets(p, withDeleting);
  if (kind === p.spec.target.kind) return targets.some((t) => t.name === key);
  return kind === 'Pod' && targets.some((t) => t.pods.some((pod) => names([pod])[0] === key));
}

describe('the target indexes', () => {
  it('find the same targets and Pods as the scan, through random changes', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const r = random(seed);
      const cluster = new Cluster();
      namespaces.forEach((_, i) => cluster.upsert('Namespace', object(r, 'Namespace', i)));
      const kinds = ['Node', 'Pod', 'Deployment'] as const;
      for (let i = 0; i < 60; i++) {
        const kind = r.pick(kinds);
        cluster.upsert(kind, object(r, kind, r.int(20)));
      }
      const policies = Array.from({ length: 6 }, () => policy(r));
      for (let round = 0; round < 5; round++) {
        for (const p of policies) compare(p, cluster, seed);
        // Relabel, delete and re-add some objects (a relabelled object moves between selectors).
        for (let i = 0; i < 15; i++) {
          const kind = r.pick([...kinds, 'Namespace'] as const);
          const existing = cluster.list(kind);
          if (existing.length > 0 && r.next() < 0.4) cluster.remove(kind, r.pick(existing));
          else cluster.upsert(kind, object(r, kind, r.int(20)));
        }
      }
    }
  });

  it('say a change concerns a policy exactly when the object is a target or a Pod of one', () => {
    let concerned = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const r = random(seed);
      const cluster = new Cluster();
      namespaces.forEach((_, i) => cluster.upsert('Namespace', object(r, 'Namespace', i)));
      for (let i = 0; i < 60; i++) {
        const kind = r.pick(['Node', 'Pod', 'Deployment'] as const);
        cluster.upsert(kind, object(r, kind, r.int(20)));
      }
      for (const p of Array.from({ length: 6 }, () => policy(r))) {
        for (const kind of ['Node', 'Pod', 'Deployment'] as const) {
          for (const o of cluster.list(kind)) {
            const expected = expectedConcern(p, kind, o, cluster);
            concerned += Number(expected);
            assert.equal(
              concerns(p, kind, o, cluster),
              expected,
              `seed ${seed}, ${kind} ${names([o])[0]}, ${JSON.stringify(p)}`,
            );
          }
        }
      }
    }
    // The generator must produce both answers, or this test could not fail.
    assert.ok(concerned > 100, `only ${concerned} concerned changes were generated`);
  });

  it('an empty selector selects every object of the namespace; none selects nothing', () => {
    const index = new ObjectIndex();
    index.upsert({ metadata: { name: 'a', namespace: 'n', labels: { app: 'x' } } });
    index.upsert({ metadata: { name: 'b', namespace: 'n' } });
    index.upsert({ metadata: { name: 'c', namespace: 'm', labels: { app: 'x' } } });
    assert.deepEqual(names(index.select('n', {})), ['n/a', 'n/b']);
    assert.deepEqual(index.select('n', undefined), []);
    assert.deepEqual(names(index.select('n', { matchLabels: { app: 'x' } })), ['n/a']);
    // Relabelled: no longer under its old label pair.
    index.upsert({ metadata: { name: 'a', namespace: 'n', labels: { app: 'y' } } });
    assert.deepEqual(index.select('n', { matchLabels: { app: 'x' } }), []);
    index.remove({ metadata: { name: 'b', namespace: 'n' } });
    assert.equal(index.size, 2);
  });
});

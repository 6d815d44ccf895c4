/**
 * One kind's objects from an informer, indexed as they change: by namespace and name, and by
 * each label pair. A policy's targets and a workload's Pods are then found from the objects
 * that carry the selector's rarest label pair, not by scanning every object of the kind for
 * every target on every evaluation (2,000 targets over 40,000 Pods took 8.5 s as a scan).
 *
 * The informer calls `upsert` and `remove` on each event (its first list and every relist
 * included), so the index is updated once per change. Selectors still decide: the candidates
 * are filtered by `selectorMatches`, so the answer is the scan's answer.
 */
import type { KubernetesObject, V1LabelSelector } from '@kubernetes/client-node';
import { selectorMatches } from '../api/label-selector.ts';

/** A label key and value as one string; NUL cannot occur in either, so pairs never collide. */
const pair = (key: string, value: string) => `${key}\u0000${value}`;
const namespaceOf = (o: KubernetesObject) => o.metadata?.namespace ?? '';
const nameOf = (o: KubernetesObject) => o.metadata?.name ?? '';
const none: ReadonlySet<string> = new Set();

export class ObjectIndex<T extends KubernetesObject = KubernetesObject> {
  private readonly objects = new Map<string, Map<string, T>>(); // namespace → name → object
  private readonly labelled = new Map<string, Map<string, Set<string>>>(); // namespace → pair → names

  get size(): number {
    let size = 0;
    for (const names of this.objects.values()) size += names.size;
    return size;
  }

  upsert(object: T): void {
    this.remove(object);
    const namespace = namespaceOf(object);
    const name = nameOf(object);
    let names = this.objects.get(namespace);
    if (names === undefined) this.objects.set(namespace, (names = new Map()));
    names.set(name, object);
    let pairs = this.labelled.get(namespace);
    if (pairs === undefined) this.labelled.set(namespace, (pairs = new Map()));
    for (const [key, value] of Object.entries(object.metadata?.labels ?? {})) {
      const p = pair(key, value);
      let holders = pairs.get(p);
      if (holders === undefined) pairs.set(p, (holders = new Set()));
      holders.add(name);
    }
  }

  /** Forgets the object of this namespace and name, with the labels it was indexed under. */
  remove(object: KubernetesObject): void {
    const namespace = namespaceOf(object);
    const name = nameOf(object);
    const names = this.objects.get(namespace);
    const old = names?.get(name);
    if (names === undefined || old === undefined) return;
    names.delete(name);
    const pairs = this.labelled.get(namespace)!;
    for (const [key, value] of Object.entries(old.metadata?.labels ?? {})) {
      const p = pair(key, value);
      const holders = pairs.get(p);
      holders?.delete(name);
      if (holders?.size === 0) pairs.delete(p);
    }
    if (names.size === 0) {
      this.objects.delete(namespace);
      this.labelled.delete(namespace);
    }
  }

  get(namespace: string, name: string): T | undefined {
    return this.objects.get(namespace)?.get(name);
  }

  /** The namespaces that hold at least one object ('' for cluster-scoped kinds). */
  namespaces(): IterableIterator<string> {
    return this.objects.keys();
  }

  /** The objects of `namespace` that `selector` selects, with Kubernetes' semantics. */
  select(namespace: string, selector: V1LabelSelector | null | undefined): T[] {
    const names = this.objects.get(namespace);
    if (names === undefined || selector === undefined || selector === null) return [];
    const candidates = this.candidates(namespace, selector);
    const chosen: T[] = [];
    if (candidates === 'all') {
      for (const object of names.values())
        if (selectorMatches(selector, object.metadata?.labels)) chosen.push(object);
      return chosen;
    }
    for (const name of candidates) {
      const object = names.get(name);
      if (object !== undefined && selectorMatches(selector, object.metadata?.labels)) chosen.push(object);
    }
    return chosen;
  }

  /**
   * The fewest names that can match: those holding the rarest required label pair (from
   * matchLabels, or an `In` expression's values together), or 'all' when the selector names none.
   */
  private candidates(namespace: string, selector: V1LabelSelector): Iterable<string> | 'all' {
    const pairs = this.labelled.get(namespace);
    const holders = (key: string, value: string) => pairs?.get(pair(key, value)) ?? none;
    let best: Iterable<string> | 'all' = 'all';
    let bestSize = Infinity;
    for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
      const set = holders(key, value);
      if (set.size < bestSize) [best, bestSize] = [set, set.size];
    }
    for (const e of selector.matchExpressions ?? []) {
      if (e.operator !== 'In') continue;
      const sets = (e.values ?? []).map((v) => holders(e.key, v));
      const size = sets.reduce((sum, s) => sum + s.size, 0);
      if (size < bestSize) [best, bestSize] = [new Set(sets.flatMap((s) => [...s])), size];
    }
    return best;
  }
}

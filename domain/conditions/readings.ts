/**
 * Reads every condition of a policy for all its targets at once: one PromQL query per
 * Prometheus condition, one metrics.k8s.io list per namespace per Metrics condition, and
 * Kubernetes state from the objects already in hand (the watcher's informer caches, or one
 * read by the verify activity). Never one call per target.
 */
import { CustomObjectsApi } from '@kubernetes/client-node';
import type {
  KubeConfig,
  V1ContainerStatus,
  V1Deployment,
  V1Node,
  V1Pod,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { Condition } from '../../api/policy.ts';
import type { ConditionReading } from '../run.ts';
import type { TargetRef } from '../actions.ts';
import { parseDuration } from '../duration.ts';
import { instantQuery, type PromSeries, promqlFor } from './promql.ts';
import { compare } from './compare.ts';
import { activeAlerts, alertsFor, type FiringAlert, labelsNameTarget } from './alerts.ts';

/** A target with the objects its conditions are read from. */
export interface TargetState {
  ref: TargetRef;
  object: V1Deployment | V1StatefulSet | V1Pod | V1Node;
  /** The target's Pods (the Pod itself for a Pod target; none for a Node). */
  pods: V1Pod[];
}

export interface ReadingSources {
  kubeconfig: KubeConfig;
  prometheusUrl: string | undefined;
  now: Date;
  /**
   * The firing alerts that may still trigger a run for a target: the watcher's, from
   * Alertmanager's webhook. Absent in the worker, which asks `alertmanagerUrl` instead;
   * without either, Alertmanager conditions read no data.
   */
  alerts?: (target: TargetRef) => readonly FiringAlert[];
  alertmanagerUrl?: string;
}

export const targetKey = (ref: TargetRef) => `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;

/** Readings by targetKey, in the order of `conditions`. */
export async function readConditions(
  conditions: Condition[],
  targets: TargetState[],
  sources: ReadingSources,
): Promise<Map<string, ConditionReading[]>> {
  const byTarget = new Map<string, ConditionReading[]>(targets.map((t) => [targetKey(t.ref), []]));
  for (const condition of conditions) {
    const values = await valuesFor(condition, targets, sources);
    for (const target of targets) {
      const value = values.get(targetKey(target.ref)) ?? null;
      byTarget.get(targetKey(target.ref))!.push({
        name: condition.name,
        value,
        holds: value !== null && compare(value, condition.operator, condition.threshold),
      });
    }
  }
  return byTarget;
}

async function valuesFor(
  condition: Condition,
  targets: TargetState[],
  sources: ReadingSources,
): Promise<Map<string, number | null>> {
  switch (condition.source) {
    case 'Prometheus': {
      if (sources.prometheusUrl === undefined)
        throw new Error('a Prometheus condition needs the Prometheus URL');
      const namespaces = [...new Set(targets.flatMap((t) => (t.ref.namespace ? [t.ref.namespace] : [])))];
      const series = await instantQuery(sources.prometheusUrl, promqlFor(condition.prometheus!, namespaces));
      return new Map(targets.map((t) => [targetKey(t.ref), seriesValueFor(t, series)]));
    }
    case 'Kubernetes':
      return new Map(
        targets.map((t) => [targetKey(t.ref), kubernetesState(condition.kubernetes!, t, sources.now)]),
      );
    case 'Metrics':
      return metricsApiValues(condition.metrics!, targets, sources.kubeconfig);
    case 'Alertmanager': {
      const { alertmanagerUrl } = sources;
      const active =
        sources.alerts === undefined && alertmanagerUrl ? await activeAlerts(alertmanagerUrl) : [];
      const alerts = sources.alerts ?? (alertmanagerUrl ? () => active : undefined);
      if (alerts === undefined) return new Map();
      return new Map(
        targets.map((t) => [
          targetKey(t.ref),
          alertsFor(condition.alertmanager!, { ref: t.ref, podNames: podNamesOf(t) }, alerts(t.ref)).length,
        ]),
      );
    }
  }
}

/** The largest value, by a loop: Math.max(...values) overflows the stack on very long arrays. */
const maxOf = (values: number[]) => values.reduce((max, v) => Math.max(max, v), -Infinity);

/**
 * A series belongs to a target when its namespace matches and it names the target by its own
 * label (deployment, statefulset, pod, node) or names one of the target's Pods; several
 * matching series combine by max, the worst Pod speaking for its workload.
 */
function seriesValueFor(target: TargetState, series: PromSeries[]): number | null {
  const named = { ref: target.ref, podNames: podNamesOf(target) };
  const values = series
    .filter((s) => labelsNameTarget(named, s.metric))
    .map((s) => s.value)
    .filter((v) => !Number.isNaN(v));
  return values.length === 0 ? null : maxOf(values);
}

const podNamesOf = (target: TargetState) => new Set(target.pods.map((p) => p.metadata?.name));

type KubernetesBlock = NonNullable<Condition['kubernetes']>;

function kubernetesState(block: KubernetesBlock, target: TargetState, now: Date): number | null {
  const statuses = (pod: V1Pod): V1ContainerStatus[] => [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []),
  ];
  const windowStart = block.window ? now.getTime() - parseDuration(block.window) : 0;
  const within = (time: Date | string | undefined) =>
    time !== undefined && new Date(time).getTime() >= windowStart;
  const count = (predicate: (s: V1ContainerStatus) => boolean) =>
    target.pods.flatMap(statuses).filter(predicate).length;
  switch (block.state) {
    case 'Restarts': {
      // Per Pod, without a window: its containers' restart counts. With one: its containers whose
      // last restart falls in it (the API keeps only the last termination, so this is a lower
      // bound, never an overcount). `per: Pod` (the default) is the worst Pod, "a Pod restarted
      // more than N times"; `per: Workload` adds up all the target's Pods.
      const ofPod = (pod: V1Pod) =>
        statuses(pod).reduce(
          (sum, s) =>
            sum +
            (block.window
              ? Number((s.restartCount ?? 0) > 0 && within(s.lastState?.terminated?.finishedAt))
              : (s.restartCount ?? 0)),
          0,
        );
      const perPod = target.pods.map(ofPod);
      return block.per === 'Workload' ? perPod.reduce((a, b) => a + b, 0) : Math.max(0, ...perPod);
    }
    case 'CrashLoopBackOff':
      return count((s) => s.state?.waiting?.reason === 'CrashLoopBackOff');
    case 'OOMKilled':
      // The last termination of a restarted container, or the current one of a container that
      // was not restarted (restartPolicy Never, or not yet); a container counts once.
      return count((s) =>
        [s.state?.terminated, s.lastState?.terminated].some(
          (t) => t?.reason === 'OOMKilled' && within(t.finishedAt),
        ),
      );
    case 'PodPending':
      return target.pods.filter((p) => p.status?.phase === 'Pending').length;
    case 'DeploymentUnavailable': {
      if (target.ref.kind !== 'Deployment' && target.ref.kind !== 'StatefulSet') return null;
      const workload = target.object as V1Deployment | V1StatefulSet;
      if (target.ref.kind === 'Deployment') {
        const available = (workload as V1Deployment).status?.conditions?.find((c) => c.type === 'Available');
        return available?.status === 'True' ? 0 : 1;
      }
      return (workload.status?.readyReplicas ?? 0) < (workload.spec?.replicas ?? 1) ? 1 : 0;
    }
    case 'NodeNotReady': {
      if (target.ref.kind !== 'Node') return null;
      const ready = (target.object as V1Node).status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' ? 0 : 1;
    }
  }
}

type MetricsBlock = NonNullable<Condition['metrics']>;

interface PodMetrics {
  metadata: { name: string; namespace: string };
  containers: { name: string; usage: Record<string, string> }[];
}

/** Usage over requests (or limits) from metrics.k8s.io: one list per namespace, worst Pod wins. */
async function metricsApiValues(
  block: MetricsBlock,
  targets: TargetState[],
  kubeconfig: KubeConfig,
): Promise<Map<string, number | null>> {
  const resource = block.resource === 'CPU' ? 'cpu' : 'memory';
  const namespaces = [...new Set(targets.flatMap((t) => (t.ref.namespace ? [t.ref.namespace] : [])))];
  const usage = new Map<string, Map<string, number>>(); // namespace/pod → container → usage
  for (const namespace of namespaces) {
    const list = (await kubeconfig.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      namespace,
      plural: 'pods',
    })) as {
      items: PodMetrics[];
    };
    for (const item of list.items) {
      usage.set(
        `${item.metadata.namespace}/${item.metadata.name}`,
        new Map(item.containers.map((c) => [c.name, parseQuantity(c.usage[resource] ?? '0')])),
      );
    }
  }
  return new Map(
    targets.map((target) => {
      const ratios = target.pods.flatMap((pod) => {
        const podUsage = usage.get(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
        if (podUsage === undefined) return [];
        return (pod.spec?.containers ?? []).flatMap((container) => {
          const base = (
            block.against === 'Limits' ? container.resources?.limits : container.resources?.requests
          )?.[resource];
          const used = podUsage.get(container.name);
          return base === undefined || used === undefined ? [] : [used / parseQuantity(base)];
        });
      });
      return [targetKey(target.ref), ratios.length === 0 ? null : maxOf(ratios)];
    }),
  );
}

const quantitySuffixes: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
};

/** A Kubernetes resource quantity ("250m", "1.5Gi", "100Ki", "1e3") as a plain number. */
export function parseQuantity(text: string): number {
  const match = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:[eE]([+-]?[0-9]+)|([a-zA-Z]*))$/.exec(
    text.trim(),
  );
  const [, number, exponent, suffix = ''] = match ?? [];
  const factor =
    exponent !== undefined
      ? 10 ** Number(exponent)
      : Object.hasOwn(quantitySuffixes, suffix)
        ? quantitySuffixes[suffix]
        : undefined;
  if (match === null || factor === undefined) throw new Error(`"${text}" is not a resource quantity`);
  return Number(number) * factor;
}

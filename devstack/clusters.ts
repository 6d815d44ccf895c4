/**
 * The stack's Kubernetes clusters. The first is the one every test and the demo use; the second
 * (`b`) stands beside it so KubeMedic can be run as it is in production for several clusters:
 * one Temporal, a worker and a watcher per cluster. Both keep their objects in the one etcd
 * under different prefixes (cheapest on a 2-core machine) and share the stack's CA and keys;
 * each API server has its own port, service-account issuer and kubeconfig, so a token of one
 * is refused by the other.
 *
 * Only the first runs kube-scheduler; the second does without, to save CPU: KWOK runs only Pods
 * bound to a node, so Pods there need `spec.nodeName` (one of devstack/fake-nodes.ts's nodes).
 */
import { join } from 'node:path';
import { paths, ports } from './config.ts';

export interface KubernetesCluster {
  /** The kubeconfig's cluster and context name; also a good KubeMedic cluster name for it. */
  name: string;
  /** Appended to its servers' names (pid and log files, `status`): '' for the first cluster. */
  suffix: string;
  /** Where its API server keeps its objects in the shared etcd. */
  etcdPrefix: string;
  ports: { apiserver: number; controllerManager: number; kwok: number };
  kubeconfig: string;
}

export const clusters = {
  a: {
    name: 'kubemedic-devstack',
    suffix: '',
    etcdPrefix: '/registry',
    ports: { apiserver: ports.apiserver, controllerManager: ports.controllerManager, kwok: ports.kwok },
    kubeconfig: paths.kubeconfig,
  },
  b: {
    name: 'kubemedic-devstack-b',
    suffix: '-b',
    etcdPrefix: '/registry-b',
    ports: { apiserver: ports.apiserverB, controllerManager: ports.controllerManagerB, kwok: ports.kwokB },
    kubeconfig: join(paths.state, 'kubeconfig-b'),
  },
} satisfies Record<string, KubernetesCluster>;

export type ClusterKey = keyof typeof clusters;
export const allClusters: KubernetesCluster[] = Object.values(clusters);

export const apiserverUrlOf = (cluster: KubernetesCluster) => `https://127.0.0.1:${cluster.ports.apiserver}`;

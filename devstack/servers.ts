/**
 * The servers of the local stack, how each is started and how its health is read. They start
 * in waves: a wave starts when every server of the wave before it is healthy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allClusters, apiserverUrlOf, clusters, type KubernetesCluster } from './clusters.ts';
import { type BinaryName, paths, ports } from './config.ts';
import { answersOk } from './http.ts';
import { pki } from './pki.ts';
import { postgres } from './postgres.ts';
import { alertmanagerConfigFile, prometheusConfigFile } from './server-configs.ts';
import { temporalServer } from './temporal-server.ts';
import { searchAttributes } from '../domain/search-attributes.ts';

export interface Server {
  name: string;
  binary: BinaryName;
  /** The ports it listens on: each must be free before it starts. */
  ports: number[];
  args: () => string[];
  healthy: () => Promise<boolean>;
  /** Where a person reaches it, for `status` and the env file. */
  url: string;
  /** The system user it runs as when not the stack's own (PostgreSQL refuses to run as root). */
  runAs?: () => { uid: number; gid: number };
  /** Runs before it starts, not when a running one is reused: data directories, configuration, schemas. */
  prepare?: (log: (line: string) => void) => Promise<void>;
  /** Runs once its process runs (started or reused), before health is awaited: what it must serve. Waits itself. */
  onceRunning?: () => Promise<void>;
}

const adminTls = () => ({
  ca: readFileSync(pki.caCert),
  cert: readFileSync(pki.adminCert),
  key: readFileSync(pki.adminKey),
});
// The controller-manager and scheduler serve health on self-signed certificates of their own.
const selfSigned = { rejectUnauthorized: false };
const loopback = '127.0.0.1';

const etcd: Server = {
  name: 'etcd',
  binary: 'etcd',
  ports: [ports.etcd, ports.etcdPeer],
  url: `http://${loopback}:${ports.etcd}`,
  args: () => [
    `--data-dir=${join(paths.data, 'etcd')}`,
    `--listen-client-urls=http://${loopback}:${ports.etcd}`,
    `--advertise-client-urls=http://${loopback}:${ports.etcd}`,
    `--listen-peer-urls=http://${loopback}:${ports.etcdPeer}`,
    `--initial-advertise-peer-urls=http://${loopback}:${ports.etcdPeer}`,
    `--initial-cluster=default=http://${loopback}:${ports.etcdPeer}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ],
  healthy: () => answersOk(`http://${loopback}:${ports.etcd}/health`),
};

/** One cluster's API server (clusters.ts): its port, its etcd prefix, its service-account issuer. */
const apiserver = (cluster: KubernetesCluster): Server => ({
  name: `kube-apiserver${cluster.suffix}`,
  binary: 'kube-apiserver',
  ports: [cluster.ports.apiserver],
  url: apiserverUrlOf(cluster),
  args: () => [
    `--etcd-servers=http://${loopback}:${ports.etcd}`,
    `--etcd-prefix=${cluster.etcdPrefix}`,
    `--bind-address=${loopback}`,
    `--secure-port=${cluster.ports.apiserver}`,
    `--cert-dir=${paths.pki}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    '--service-cluster-ip-range=10.0.0.0/24',
    `--service-account-issuer=${apiserverUrlOf(cluster)}/`,
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    // The aggregation layer (metrics.k8s.io and other APIServices) authenticates with these.
    `--requestheader-client-ca-file=${pki.caCert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.frontProxyCert}`,
    `--proxy-client-key-file=${pki.frontProxyKey}`,
    '--enable-aggregator-routing=true',
  ],
  healthy: () => answersOk(`${apiserverUrlOf(cluster)}/readyz`, adminTls()),
});

const controlPlaneClientArgs = (cluster: KubernetesCluster, port: number) => [
  `--kubeconfig=${cluster.kubeconfig}`,
  '--leader-elect=false',
  `--bind-address=${loopback}`,
  `--secure-port=${port}`,
  '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
];

const controllerManager = (cluster: KubernetesCluster): Server => ({
  name: `kube-controller-manager${cluster.suffix}`,
  binary: 'kube-controller-manager',
  ports: [cluster.ports.controllerManager],
  url: `https://${loopback}:${cluster.ports.controllerManager}`,
  args: () => [
    ...controlPlaneClientArgs(cluster, cluster.ports.controllerManager),
    `--root-ca-file=${pki.caCert}`,
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
  ],
  healthy: () => answersOk(`https://${loopback}:${cluster.ports.controllerManager}/healthz`, selfSigned),
});

/** Only the first cluster has one (clusters.ts says why the second does without). */
const scheduler: Server = {
  name: 'kube-scheduler',
  binary: 'kube-scheduler',
  ports: [ports.scheduler],
  url: `https://${loopback}:${ports.scheduler}`,
  args: () => controlPlaneClientArgs(clusters.a, ports.scheduler),
  healthy: () => answersOk(`https://${loopback}:${ports.scheduler}/healthz`, selfSigned),
};

/** The annotation that hands a Node to KWOK, and the one that keeps KWOK off a Pod's status. */
export const kwokNodeAnnotation = 'kwok.x-k8s.io/node';
export const kwokCustomStatusAnnotation = 'kwok.x-k8s.io/status';

const kwok = (cluster: KubernetesCluster): Server => ({
  name: `kwok${cluster.suffix}`,
  binary: 'kwok',
  ports: [cluster.ports.kwok],
  url: `http://${loopback}:${cluster.ports.kwok}`,
  args: () => [
    `--kubeconfig=${cluster.kubeconfig}`,
    `--manage-nodes-with-annotation-selector=${kwokNodeAnnotation}=fake`,
    // Tests that drive pod status by hand (restarts, CrashLoopBackOff) mark the pod with this.
    `--disregard-status-with-annotation-selector=${kwokCustomStatusAnnotation}=custom`,
    '--node-lease-duration-seconds=40',
    '--cidr=10.244.0.0/16',
    `--server-address=${loopback}:${cluster.ports.kwok}`,
  ],
  healthy: () => answersOk(`http://${loopback}:${cluster.ports.kwok}/healthz`),
});

const temporal: Server = {
  name: 'temporal',
  binary: 'temporal',
  ports: [ports.temporal, ports.temporalUi, ports.temporalHttp, ports.temporalMetrics],
  url: `http://localhost:${ports.temporalUi}`,
  args: () => [
    'server',
    'start-dev',
    `--ip=${loopback}`,
    `--port=${ports.temporal}`,
    `--ui-port=${ports.temporalUi}`,
    `--http-port=${ports.temporalHttp}`,
    `--metrics-port=${ports.temporalMetrics}`,
    `--db-filename=${join(paths.data, 'temporal.sqlite')}`,
    '--sqlite-pragma=journal_mode=WAL',
    '--sqlite-pragma=synchronous=OFF',
    '--namespace=default',
    '--log-level=warn',
    ...Object.values(searchAttributes).map((key) => `--search-attribute=${key.name}=Keyword`),
  ],
  healthy: () => answersOk(`http://${loopback}:${ports.temporalHttp}/api/v1/namespaces/default`),
};

const prometheus: Server = {
  name: 'prometheus',
  binary: 'prometheus',
  ports: [ports.prometheus],
  url: `http://localhost:${ports.prometheus}`,
  args: () => [
    `--config.file=${prometheusConfigFile()}`,
    `--storage.tsdb.path=${join(paths.data, 'prometheus')}`,
    `--web.listen-address=${loopback}:${ports.prometheus}`,
    '--web.enable-remote-write-receiver',
    '--web.enable-lifecycle',
    '--storage.tsdb.retention.time=2d',
  ],
  healthy: () => answersOk(`http://${loopback}:${ports.prometheus}/-/ready`),
};

const alertmanager: Server = {
  name: 'alertmanager',
  binary: 'alertmanager',
  ports: [ports.alertmanager],
  url: `http://localhost:${ports.alertmanager}`,
  args: () => [
    `--config.file=${alertmanagerConfigFile()}`,
    `--storage.path=${join(paths.data, 'alertmanager')}`,
    `--web.listen-address=${loopback}:${ports.alertmanager}`,
    '--cluster.listen-address=',
  ],
  healthy: () => answersOk(`http://${loopback}:${ports.alertmanager}/-/ready`),
};

export const waves: Server[][] = [
  [etcd, temporal, prometheus, alertmanager, postgres],
  [...allClusters.map(apiserver), temporalServer],
  [...allClusters.flatMap((cluster) => [controllerManager(cluster), kwok(cluster)]), scheduler],
];
export const servers: Server[] = waves.flat();

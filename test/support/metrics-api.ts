/**
 * A stand-in metrics-server for tests: a small HTTPS server on 127.0.0.1 that serves enough of
 * metrics.k8s.io/v1beta1 (discovery, PodMetrics, NodeMetrics) with usage values the test sets,
 * registered in the cluster as a real aggregated API, so clients reach it through the API
 * server's aggregation layer as they reach metrics-server in a real cluster.
 *
 * How the aggregator finds it on a loopback-only machine. With --enable-aggregator-routing=true
 * (as devstack runs it) kube-apiserver 1.34 resolves an APIService's Service through its
 * EndpointSlices, not Endpoints, and dials `endpoints[0].addresses[0]` of a ready endpoint
 * whatever the slice's addressType (k8s.io/apiserver@v0.34.4 pkg/util/proxy/proxy.go,
 * ResolveEndpoint, lines 77-126; chosen in kubernetes cmd/kube-apiserver/app/server.go:294).
 * IPv4 and IPv6 slices refuse loopback addresses (ValidateEndpointIP, pkg/apis/core/validation
 * validation.go:8019), and so do Endpoints; an FQDN slice only checks that the address is a DNS
 * subdomain of two or more labels (pkg/apis/discovery/validation/validation.go:136), which
 * "127.0.0.1" is. So: a selectorless ClusterIP Service in kube-system, one FQDN EndpointSlice
 * whose address is 127.0.0.1 and whose port is this server's, and the APIService
 * v1beta1.metrics.k8s.io pointing at the Service, with a caBundle that verifies this server's
 * certificate for <service>.kube-system.svc (the name the aggregator checks).
 *
 * Like a real aggregated API server, it only answers the aggregator: requests must carry the
 * front-proxy client certificate named in kube-system/extension-apiserver-authentication, and
 * the user the API server authenticated arrives in the request header (X-Remote-User).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, signCertificate } from '../../devstack/pki.ts';
import { KubeRequestError, kubeRequest } from '../../domain/kube/request.ts';
import { ensureStack, eventually, kubeconfig } from './stack.ts';

export interface Usage {
  /** A CPU quantity, such as "150m". */
  cpu: string;
  /** A memory quantity, such as "64Mi". */
  memory: string;
}

export interface MetricsApi {
  /** Served pod usage, by "namespace/pod", then by container name. Pods not here are not listed. */
  pods: Map<string, Map<string, Usage>>;
  /** Served node usage, by node name. */
  nodes: Map<string, Usage>;
  /** Sets one container's usage. */
  setPodUsage(namespace: string, pod: string, container: string, usage: Usage): void;
  /** Every request that reached the server, with the user the aggregator forwarded. */
  requests: { path: string; user: string | undefined }[];
  /** The port on 127.0.0.1 the server listens on. */
  port: number;
  /** Deletes the APIService (then the Service and EndpointSlice) and stops the server. */
  unregister(): Promise<void>;
}

const group = 'metrics.k8s.io';
const version = 'v1beta1';
const groupVersion = `${group}/${version}`;
const apiServiceName = `${version}.${group}`;
const serviceNamespace = 'kube-system';
const serviceName = 'kubemedic-test-metrics';
const sliceName = `${serviceName}-loopback`;
const servicePort = 443;
const fieldManager = 'kubemedic-tests';

const paths = {
  apiService: `/apis/apiregistration.k8s.io/v1/apiservices/${apiServiceName}`,
  service: `/api/v1/namespaces/${serviceNamespace}/services/${serviceName}`,
  slice: `/apis/discovery.k8s.io/v1/namespaces/${serviceNamespace}/endpointslices/${sliceName}`,
  authentication: `/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication`,
};

/** A CA and a serving certificate for the Service's DNS name (and 127.0.0.1), in a temp dir. */
function servingCertificate(dir: string): { ca: string; cert: string; key: string } {
  const file = (name: string) => join(dir, name);
  const ca = { cert: file('ca.crt'), key: file('ca.key') };
  createCa(ca, 'kubemedic-test-metrics-ca', 1);
  const dnsName = `${serviceName}.${serviceNamespace}.svc`;
  signCertificate(
    ca,
    { cert: file('serving.crt'), key: file('serving.key') },
    `/CN=${dnsName}`,
    `subjectAltName=DNS:${dnsName},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`,
    1,
  );
  return {
    ca: readFileSync(file('ca.crt'), 'utf8'),
    cert: readFileSync(file('serving.crt'), 'utf8'),
    key: readFileSync(file('serving.key'), 'utf8'),
  };
}

/** What the API server publishes for aggregated servers to authenticate its front proxy. */
async function requestHeaderAuthentication(config: KubeConfig) {
  const configMap = await kubeRequest<{ data: Record<string, string> }>(config, {
    method: 'GET',
    path: paths.authentication,
  });
  const list = (key: string) => JSON.parse(configMap.data[key] ?? '[]') as string[];
  const ca = configMap.data['requestheader-client-ca-file'];
  if (ca === undefined) throw new Error('the API server publishes no requestheader client CA');
  return {
    ca,
    allowedNames: list('requestheader-allowed-names'),
    usernameHeaders: list('requestheader-username-headers').map((h) => h.toLowerCase()),
  };
}

const discovery = {
  openapi: { swagger: '2.0', info: { title: 'kubemedic test metrics', version }, paths: {} },
  apis: {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [
      {
        name: group,
        versions: [{ groupVersion, version }],
        preferredVersion: { groupVersion, version },
      },
    ],
  },
  group: {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: group,
    versions: [{ groupVersion, version }],
    preferredVersion: { groupVersion, version },
  },
  resources: {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: [
      { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
      { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
    ],
  },
};

const window = '10s';

function podMetrics(key: string, containers: Map<string, Usage>, now: string) {
  const [namespace, name] = key.split('/') as [string, string];
  return {
    metadata: { name, namespace, creationTimestamp: now },
    timestamp: now,
    window,
    containers: [...containers].map(([container, usage]) => ({ name: container, usage: { ...usage } })),
  };
}

function nodeMetrics(name: string, usage: Usage, now: string) {
  return { metadata: { name, creationTimestamp: now }, timestamp: now, window, usage: { ...usage } };
}

function status(res: ServerResponse, code: number, reason: string, message: string) {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }));
}

/** Answers one metrics.k8s.io request from the served usage. */
function serve(api: Pick<MetricsApi, 'pods' | 'nodes'>, path: string, res: ServerResponse) {
  const json = (body: unknown) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const now = new Date().toISOString();
  const base = `/apis/${groupVersion}`;
  // The aggregator merges every APIService's OpenAPI; an empty spec keeps it from retrying a 404.
  if (path === '/openapi/v2') return json(discovery.openapi);
  if (path === '/apis') return json(discovery.apis);
  if (path === `/apis/${group}`) return json(discovery.group);
  if (path === base) return json(discovery.resources);
  const podList = (namespace: string | undefined) =>
    json({
      kind: 'PodMetricsList',
      apiVersion: groupVersion,
      metadata: {},
      items: [...api.pods]
        .filter(([key]) => namespace === undefined || key.startsWith(`${namespace}/`))
        .map(([key, containers]) => podMetrics(key, containers, now)),
    });
  if (path === `${base}/pods`) return podList(undefined);
  if (path === `${base}/nodes`) {
    return json({
      kind: 'NodeMetricsList',
      apiVersion: groupVersion,
      metadata: {},
      items: [...api.nodes].map(([name, usage]) => nodeMetrics(name, usage, now)),
    });
  }
  const escaped = base.replaceAll('.', '\\.');
  const pods = new RegExp(`^${escaped}/namespaces/([^/]+)/pods(?:/([^/]+))?$`).exec(path);
  if (pods) {
    const [, namespace, name] = pods as unknown as [string, string, string | undefined];
    if (name === undefined) return podList(namespace);
    const containers = api.pods.get(`${namespace}/${name}`);
    if (containers)
      return json({
        kind: 'PodMetrics',
        apiVersion: groupVersion,
        ...podMetrics(`${namespace}/${name}`, containers, now),
      });
    return status(res, 404, 'NotFound', `podmetrics.metrics.k8s.io "${name}" not found`);
  }
  const node = new RegExp(`^${escaped}/nodes/([^/]+)$`).exec(path);
  if (node) {
    const usage = api.nodes.get(node[1]!);
    if (usage)
      return json({ kind: 'NodeMetrics', apiVersion: groupVersion, ...nodeMetrics(node[1]!, usage, now) });
    return status(res, 404, 'NotFound', `nodemetrics.metrics.k8s.io "${node[1]}" not found`);
  }
  return status(res, 404, 'NotFound', `the server could not find the requested resource (${path})`);
}

const apply = (config: KubeConfig, path: string, body: unknown) =>
  kubeRequest<{ metadata: { uid: string } }>(config, {
    method: 'PATCH',
    path,
    query: { fieldManager, force: 'true' },
    contentType: 'application/apply-patch+yaml',
    body,
  });

async function deleteIfPresent(config: KubeConfig, path: string, uid?: string): Promise<void> {
  try {
    await kubeRequest(config, {
      method: 'DELETE',
      path,
      body: uid ? { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid } } : undefined,
    });
  } catch (error) {
    // Gone already, or (409) replaced by someone else's registration: not ours to delete.
    if (error instanceof KubeRequestError && (error.status === 404 || error.status === 409)) return;
    throw error;
  }
}

type Condition = { type: string; status: string; reason?: string; message?: string };

/**
 * Starts the server and registers it as v1beta1.metrics.k8s.io (replacing a registration a
 * crashed run left behind); resolves once the APIService is Available and its discovery
 * answers through the API server.
 */
export async function registerMetricsApi(config: KubeConfig = kubeconfig()): Promise<MetricsApi> {
  const dir = mkdtempSync(join(tmpdir(), 'kubemedic-metrics-api-'));
  const tls = servingCertificate(dir);
  const authentication = await requestHeaderAuthentication(config);
  const pods = new Map<string, Map<string, Usage>>();
  const nodes = new Map<string, Usage>();
  const requests: MetricsApi['requests'] = [];

  const server: Server = createServer(
    { cert: tls.cert, key: tls.key, ca: authentication.ca, requestCert: true, rejectUnauthorized: false },
    (req: IncomingMessage, res: ServerResponse) => {
      const socket = req.socket as TLSSocket;
      const commonName = socket.authorized ? socket.getPeerCertificate().subject?.CN : undefined;
      const clientName = Array.isArray(commonName) ? commonName[0] : commonName;
      const proxy =
        clientName !== undefined &&
        (authentication.allowedNames.length === 0 || authentication.allowedNames.includes(clientName));
      if (!proxy) return status(res, 401, 'Unauthorized', 'only the API server front proxy may call');
      const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
      const userHeader = authentication.usernameHeaders.find((h) => req.headers[h] !== undefined);
      requests.push({ path, user: userHeader ? String(req.headers[userHeader]) : undefined });
      if (req.method !== 'GET') return status(res, 405, 'MethodNotAllowed', `${req.method} is not supported`);
      serve({ pods, nodes }, path, res);
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const labels = { 'app.kubernetes.io/managed-by': fieldManager };

  await apply(config, paths.service, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: serviceName, namespace: serviceNamespace, labels },
    // No selector: the EndpointSlice below is written by hand, as for any out-of-cluster backend.
    spec: {
      type: 'ClusterIP',
      ports: [{ name: 'https', port: servicePort, protocol: 'TCP', targetPort: port }],
    },
  });
  await apply(config, paths.slice, {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: sliceName,
      namespace: serviceNamespace,
      labels: {
        ...labels,
        'kubernetes.io/service-name': serviceName,
        'endpointslice.kubernetes.io/managed-by': fieldManager,
      },
    },
    // FQDN, because IPv4 slices refuse loopback addresses; the aggregator dials the address as given.
    addressType: 'FQDN',
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  });
  const apiService = await apply(config, paths.apiService, {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: apiServiceName, labels },
    spec: {
      group,
      version,
      groupPriorityMinimum: 100,
      versionPriority: 100,
      service: { namespace: serviceNamespace, name: serviceName, port: servicePort },
      caBundle: Buffer.from(tls.ca).toString('base64'),
    },
  });

  const unregister = async () => {
    await deleteIfPresent(config, paths.apiService, apiService.metadata.uid);
    // Wait until the aggregator has dropped the group, before the backend goes away.
    await eventually('metrics.k8s.io to leave the API server', async () => {
      try {
        await kubeRequest(config, { method: 'GET', path: `/apis/${groupVersion}` });
        return undefined;
      } catch (error) {
        if (error instanceof KubeRequestError && error.status === 404) return true;
        throw error;
      }
    });
    await deleteIfPresent(config, paths.slice);
    await deleteIfPresent(config, paths.service);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await eventually('APIService v1beta1.metrics.k8s.io to be Available', async () => {
      const current = await kubeRequest<{ status?: { conditions?: Condition[] } }>(config, {
        method: 'GET',
        path: paths.apiService,
      });
      const available = current.status?.conditions?.find((c) => c.type === 'Available');
      if (available?.status === 'True') return true;
      throw new Error(`Available=${available?.status}: ${available?.reason} ${available?.message}`);
    });
    await eventually('metrics.k8s.io discovery through the API server', async () => {
      const list = await kubeRequest<{ resources: { name: string }[] }>(config, {
        method: 'GET',
        path: `/apis/${groupVersion}`,
      });
      return list.resources.some((r) => r.name === 'pods') ? true : undefined;
    });
  } catch (error) {
    await unregister();
    throw error;
  }

  return {
    pods,
    nodes,
    requests,
    port,
    unregister,
    setPodUsage(namespace, pod, container, usage) {
      const key = `${namespace}/${pod}`;
      if (!pods.has(key)) pods.set(key, new Map());
      pods.get(key)!.set(container, usage);
    },
  };
}

/**
 * Registers hooks that serve metrics.k8s.io for this test file and unregister it afterwards.
 * The returned object is filled in by the `before` hook.
 */
export function useMetricsApi(): MetricsApi {
  const handle = {} as MetricsApi;
  before(async () => {
    await ensureStack();
    Object.assign(handle, await registerMetricsApi());
  });
  after(async () => {
    if (handle.unregister) await handle.unregister();
  });
  return handle;
}

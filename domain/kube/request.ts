/**
 * A raw request to the Kubernetes API with the kubeconfig's credentials. Everything else uses the
 * typed @kubernetes/client-node APIs; this is kept where they cannot send the request, or would
 * change what comes back:
 *
 * - reads and JSON Patches (with `test` operations) of an object of any kind named by an
 *   ObjectRef (activities/actions/fields.ts, workloads.ts): the typed APIs are one method per
 *   kind, and their models turn timestamps into Dates and drop fields they do not know, so a
 *   backed-up field would not compare equal to the same field read again;
 * - lists whose items are backed up or compared by JSON Pointer (a workload's Pods in
 *   restart-pod.ts, a Deployment's ReplicaSets in rollback-deployment.ts), for the same reason;
 * - merge patches of a policy's status subresource, one path for both policy kinds.
 *
 * Failures are KubeRequestErrors; domain/kube/errors.ts reads them and the typed APIs' alike.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { request, type RequestOptions } from 'node:https';

export class KubeRequestError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    /** The API server's own message, without the request line. */
    readonly apiMessage: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeRequestError';
  }
}

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
}

export async function kubeRequest<T>(kubeconfig: KubeConfig, req: KubeRequest): Promise<T> {
  const cluster = kubeconfig.getCurrentCluster();
  if (cluster === null) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server + req.path);
  for (const [key, value] of Object.entries(req.query ?? {}))
    if (value !== undefined) url.searchParams.set(key, value);
  const options: RequestOptions = {
    method: req.method,
    headers: { Accept: 'application/json', 'Content-Type': req.contentType ?? 'application/json' },
  };
  await kubeconfig.applyToHTTPSOptions(options);
  const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
  return new Promise<T>((resolvePromise, reject) => {
    const call = request(url, options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const parsed: unknown = text ? safeJson(text) : undefined;
        if (status >= 200 && status < 300) return resolvePromise(parsed as T);
        const apiStatus = (parsed ?? {}) as { message?: string; reason?: string };
        const apiMessage = apiStatus.message ?? text;
        reject(
          new KubeRequestError(
            status,
            apiStatus.reason ?? String(status),
            apiMessage,
            `${req.method} ${req.path}: ${status} ${apiMessage}`,
          ),
        );
      });
    });
    call.on('error', reject);
    if (payload !== undefined) call.write(payload);
    call.end();
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

/**
 * The REST path of one object, from its apiVersion, kind and name. Names and namespaces come from
 * policies and alerts: each is encoded as one path segment, so `../../x` cannot reach another path.
 */
export function objectPath(ref: {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}): string {
  return `${collectionPath(ref)}/${segment(ref.name)}`;
}

/** The REST path of the objects of one kind, in one namespace or cluster-wide. */
export function collectionPath(ref: { apiVersion: string; kind: string; namespace?: string }): string {
  const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  const scope = ref.namespace ? `/namespaces/${segment(ref.namespace)}` : '';
  return `${base}${scope}/${pluralOf(ref.kind)}`;
}

/**
 * One path segment. `.` and `..` stay path steps even percent-encoded (URL parsers resolve %2E%2E),
 * and no Kubernetes object can have such a name, so they are refused.
 */
function segment(text: string): string {
  if (text === '' || text === '.' || text === '..')
    throw new Error(`"${text}" is not a Kubernetes object name`);
  return encodeURIComponent(text);
}

const irregularPlurals: Record<string, string> = {
  HorizontalPodAutoscaler: 'horizontalpodautoscalers',
  RemediationPolicy: 'remediationpolicies',
  ClusterRemediationPolicy: 'clusterremediationpolicies',
};

function pluralOf(kind: string): string {
  return irregularPlurals[kind] ?? `${kind.toLowerCase()}s`;
}

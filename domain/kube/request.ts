/**
 * A raw request to the Kubernetes API with the kubeconfig's credentials, for what the typed
 * clients cannot send: JSON Patch with `test` operations against any kind, and subresources
 * such as pods/eviction. Errors carry the status and the API server's own message.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { request, type RequestOptions } from 'node:https';

export class KubeRequestError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
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
        reject(
          new KubeRequestError(
            status,
            apiStatus.reason ?? String(status),
            `${req.method} ${req.path}: ${status} ${apiStatus.message ?? text}`,
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

/** The REST path of one object, from its apiVersion, kind and name. */
export function objectPath(ref: {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}): string {
  const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  const scope = ref.namespace ? `/namespaces/${ref.namespace}` : '';
  return `${base}${scope}/${pluralOf(ref.kind)}/${ref.name}`;
}

const irregularPlurals: Record<string, string> = {
  HorizontalPodAutoscaler: 'horizontalpodautoscalers',
  RemediationPolicy: 'remediationpolicies',
  ClusterRemediationPolicy: 'clusterremediationpolicies',
};

function pluralOf(kind: string): string {
  return irregularPlurals[kind] ?? `${kind.toLowerCase()}s`;
}

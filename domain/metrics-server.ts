/**
 * Serves /metrics and /healthz for a KubeMedic process (the worker and the policy watcher use
 * the same server). /metrics is the process's prom-client registry followed by any further
 * exposition text, such as the Temporal SDK runtime's own metrics, so one scrape gets both.
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface MetricsEndpoint {
  registry: Registry;
  /** More Prometheus exposition text to append, e.g. fetched from the SDK runtime's exporter. */
  more?: () => Promise<string>;
  /** Liveness: false answers 503 with `why`. */
  healthy: () => boolean;
  why: string;
}

export function serveMetrics(port: number, endpoint: MetricsEndpoint): Server {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      Promise.all([endpoint.registry.metrics(), endpoint.more?.() ?? ''])
        .then(([own, more]) =>
          res.writeHead(200, { 'Content-Type': endpoint.registry.contentType }).end(own + more),
        )
        .catch((error: unknown) => res.writeHead(500).end(String(error)));
    } else if (req.url === '/healthz') {
      const healthy = endpoint.healthy();
      res.writeHead(healthy ? 200 : 503).end(healthy ? 'ok' : endpoint.why);
    } else {
      res.writeHead(404).end();
    }
  });
  return server.listen(port);
}

/** Fetches the exposition text of a local exporter; an unreachable one yields nothing, not an error. */
export async function scrapeLocal(url: string): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? await response.text() : '';
  } catch {
    return '';
  }
}

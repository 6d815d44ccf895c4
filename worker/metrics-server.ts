/** Serves /metrics (KubeMedic's counters) and /healthz for the worker process. */
import { createServer, type Server } from 'node:http';
import { metricsRegistry } from '../activities/index.ts';

export function serveMetrics(port: number, healthy: () => boolean): Server {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      metricsRegistry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': metricsRegistry.contentType }).end(text),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    } else if (req.url === '/healthz') {
      res.writeHead(healthy() ? 200 : 503).end(healthy() ? 'ok' : 'worker not running');
    } else {
      res.writeHead(404).end();
    }
  });
  return server.listen(port);
}

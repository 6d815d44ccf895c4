/**
 * Ports for the servers tests start. Never a fixed one: whatever else runs on the machine (the
 * demo's worker and watcher, another checkout's tests) may hold it, and a test must not fail,
 * or hang, because of that.
 */
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePromise(address.port) : reject(new Error('no port')),
      );
    });
  });
}

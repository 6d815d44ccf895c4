/**
 * The test harness: every integration test gets the running local stack (started when none
 * runs) and, where it touches Kubernetes, a namespace of its own that is deleted afterwards.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isUp, loadKubeconfig, up } from '../../devstack/stack.ts';

let starting: Promise<void> | undefined;

export function ensureStack(): Promise<void> {
  starting ??= (async () => {
    if (!(await isUp())) await up((line) => console.error(`[devstack] ${line}`));
  })();
  return starting;
}

export function kubeconfig(): KubeConfig {
  return loadKubeconfig();
}

export interface TestNamespace {
  /** Set once the suite's `before` hook has run. */
  name: string;
}

/** Registers before/after hooks that create a fresh namespace for this test file and delete it. */
export function useTestNamespace(prefix = 'kmt'): TestNamespace {
  const namespace: TestNamespace = { name: '' };
  before(async () => {
    await ensureStack();
    namespace.name = `${prefix}-${randomBytes(3).toString('hex')}`;
    await kubeconfig()
      .makeApiClient(CoreV1Api)
      .createNamespace({
        body: { metadata: { name: namespace.name, labels: { 'kubemedic.io/test': 'true' } } },
      });
  });
  // A failing after hook makes node:test skip the hooks after it, and one of those may be what
  // stops a worker whose open handles keep the file from exiting: a namespace that cannot be
  // deleted (the API server down) is said, not thrown.
  after(async () => {
    if (!namespace.name) return;
    await kubeconfig()
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: namespace.name })
      .catch((error: unknown) =>
        console.error(`could not delete namespace ${namespace.name}: ${String(error)}`),
      );
  });
  return namespace;
}

/** Polls until `probe` returns a value that is not undefined, or fails with `what` and the last value seen. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await sleep(250);
  }
}

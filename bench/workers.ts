/**
 * Temporal workers of a bench run: on their own task queue, shut down at cleanup. The SDK's
 * runtime logs warnings only, so the table stays readable.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { environment } from '../devstack/stack.ts';
import type { BenchContext } from './context.ts';

let runtimeInstalled = false;

export async function benchWorker(
  ctx: BenchContext,
  options: Omit<WorkerOptions, 'connection' | 'namespace'>,
): Promise<Worker> {
  return startedWorker(ctx, (connection, namespace) => Worker.create({ connection, namespace, ...options }));
}

/** A worker `create` makes on a fresh connection (KubeMedic's own, say), run until cleanup. */
export async function startedWorker(
  ctx: BenchContext,
  create: (connection: NativeConnection, namespace: string) => Promise<Worker>,
): Promise<Worker> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const connection = await NativeConnection.connect({ address: ctx.temporalAddress });
  const worker = await create(connection, environment().TEMPORAL_NAMESPACE);
  const running = worker.run();
  ctx.onCleanup(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await connection.close();
  });
  return worker;
}

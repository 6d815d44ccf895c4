/**
 * The latency the safety governor adds to a remediation: side by side in one run, workflows that
 * do nothing (the baseline: start, one workflow task, completion) and workflows that ask the
 * policy and cluster governors for permits and release them, as every remediation run does —
 * first one at a time, then many at once. The difference is the governor's price.
 *
 *   npx tsx bench/permit-latency.ts [runs per mode, default 40]
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { environment, isUp, up } from '../devstack/stack.ts';
import { globalGovernorId, policyGovernorId } from '../domain/governor.ts';

const runs = Number(process.argv[2] ?? 40);
Runtime.install({ logger: new DefaultLogger('WARN') });
if (!(await isUp())) await up(() => undefined);
const taskQueue = `bench-permits-${randomBytes(3).toString('hex')}`;
const nativeConnection = await NativeConnection.connect({ address: environment().TEMPORAL_ADDRESS });
const worker = await Worker.create({
  connection: nativeConnection,
  namespace: environment().TEMPORAL_NAMESPACE,
  taskQueue,
  workflowsPath: fileURLToPath(new URL('./permit-probe.workflows.ts', import.meta.url)),
});
const running = worker.run();
const connection = await Connection.connect({ address: environment().TEMPORAL_ADDRESS });
const client = new Client({ connection, namespace: environment().TEMPORAL_NAMESPACE });

const governors = [
  { id: policyGovernorId(taskQueue, 'bench/policy'), limits: { maxConcurrent: 1000, maxPerHour: 100_000 } },
  { id: globalGovernorId(taskQueue), limits: {} },
];
for (const { id } of governors) {
  await client.workflow.start('governor', {
    workflowId: id,
    taskQueue,
    args: [],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}

async function timeOne(workflow: 'noGovernor' | 'permitProbe', i: number, mode: string): Promise<number> {
  const started = performance.now();
  const ok = await client.workflow.execute(workflow, {
    workflowId: `${taskQueue}/${mode}/${i}`,
    taskQueue,
    args: workflow === 'permitProbe' ? [governors] : [],
  });
  if (!ok) throw new Error(`${mode} run ${i} was refused a permit`);
  return performance.now() - started;
}

async function measure(mode: string, workflow: 'noGovernor' | 'permitProbe', concurrent: boolean) {
  const indexes = Array.from({ length: runs }, (_, i) => i);
  const durations = concurrent
    ? await Promise.all(indexes.map((i) => timeOne(workflow, i, mode)))
    : await indexes.reduce<Promise<number[]>>(
        async (done, i) => [...(await done), await timeOne(workflow, i, mode)],
        Promise.resolve([]),
      );
  const sorted = durations.sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(0);
  console.log(
    `${mode.padEnd(34)} ${at(50).padStart(6)} ${at(95).padStart(6)} ${sorted.at(-1)!.toFixed(0).padStart(6)}`,
  );
}

try {
  console.log(`start → result of a workflow, ${runs} runs per mode (2 cores, local stack)`);
  console.log(`${'mode'.padEnd(34)} ${'p50'.padStart(6)} ${'p95'.padStart(6)} ${'max'.padStart(6)}  (ms)`);
  await measure('no governor, one at a time', 'noGovernor', false);
  await measure('2 governors, one at a time', 'permitProbe', false);
  await measure(`no governor, ${runs} at once`, 'noGovernor', true);
  await measure(`2 governors, ${runs} at once`, 'permitProbe', true);
} finally {
  for (const { id } of governors) await client.workflow.getHandle(id).terminate('bench done');
  worker.shutdown();
  await running;
  await connection.close();
  await nativeConnection.close();
}

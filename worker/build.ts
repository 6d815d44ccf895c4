/**
 * `npm run build:processes`: the worker and the policy watcher as JavaScript in dist/, so the
 * image runs them with plain `node` (no TypeScript compiled at start, no tsx):
 *
 * - dist/worker/main.js and dist/policy-watcher/main.js: each process's own code (api/, domain/,
 *   activities/, …) bundled by esbuild into one ES module; npm packages stay imports, served by
 *   the image's production node_modules;
 * - dist/worker/workflow-bundle.js: workflows/ bundled for the workflow sandbox now, as Temporal's
 *   production sample does, instead of by webpack each time a worker starts. worker/worker.ts
 *   loads it when it sits beside the running code, and bundles workflows/ itself otherwise (tsx,
 *   the tests);
 * - dist/worker/workflow-bundle-tracing.js: the same with the OpenTelemetry workflow interceptors
 *   (worker/tracing.ts), which a prebuilt bundle must hold; the worker loads it when tracing is on.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tracingWorkflowModules } from './tracing.ts';
import { workflowBundleNames, workflowsPath } from './worker.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const processesDir = join(repoRoot, 'dist');
const entryPoints = ['worker/main.ts', 'policy-watcher/main.ts'];

export async function buildProcesses(out = processesDir): Promise<void> {
  for (const entry of entryPoints) rmSync(join(out, dirname(entry)), { recursive: true, force: true });
  const { engines } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    engines: { node: string };
  };
  await build({
    absWorkingDir: repoRoot,
    entryPoints,
    outbase: '.',
    outdir: out,
    bundle: true,
    // node_modules as they are: the Temporal core bridge is native code, and grpc-js and the
    // Kubernetes client load files of their own.
    packages: 'external',
    format: 'esm',
    platform: 'node',
    target: `node${/\d+/.exec(engines.node)?.[0] ?? '20'}`,
    logLevel: 'warning',
  });
  mkdirSync(join(out, 'worker'), { recursive: true });
  const bundles = { plain: [], tracing: tracingWorkflowModules };
  for (const [kind, workflowInterceptorModules] of Object.entries(bundles)) {
    const { code } = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules });
    writeFileSync(join(out, 'worker', workflowBundleNames[kind as keyof typeof bundles]), code);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildProcesses();

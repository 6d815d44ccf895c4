/**
 * `npm run build:cli`: the `kubemedic` CLI as an npm package that needs no checkout and no
 * runtime dependencies, in dist/cli/:
 *
 * - kubemedic.mjs: cli/main.ts bundled by esbuild, with what only some commands need (the
 *   Temporal client, the Kubernetes client, the activities for `restore`) in chunks/ that are
 *   loaded when a command asks for them, so `--version`, help and completion start at once;
 * - package.json: the bins `kubemedic` and `kubectl-kubemedic` (the name kubectl looks for a
 *   plugin by, so `kubectl kubemedic ...` works once it is on the PATH), the root's version;
 * - README.md: docs/cli.md.
 *
 * The root package stays private; this one is what `npm pack dist/cli` ships.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandSpec } from '../command.ts';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const cliPackageDir = join(repoRoot, 'dist/cli');

interface RootManifest {
  version: string;
  description: string;
  engines: Record<string, string>;
}

export async function buildCli(out = cliPackageDir): Promise<{ dir: string; version: string }> {
  const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as RootManifest;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    absWorkingDir: repoRoot,
    entryPoints: { kubemedic: 'cli/main.ts' },
    outdir: out,
    bundle: true,
    // Chunks need ESM; dynamic import() of a client is what makes it a chunk.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: `node${minimumNodeMajor(root.engines.node)}`,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    // Whitespace only: names stay readable in stack traces, and parsing the smaller file is faster.
    minifyWhitespace: true,
    legalComments: 'linked',
    define: {
      KUBEMEDIC_CLI_VERSION: JSON.stringify(root.version),
      // The command table's text (cli/main.ts): help, usage errors and flag parsing then load no
      // command's code, which pulls in Temporal's protobufs and the schemas.
      KUBEMEDIC_COMMAND_SPECS: JSON.stringify(await commandSpecs()),
    },
    banner: {
      // The CommonJS dependencies (grpc-js, the Kubernetes client's) call require() for Node's
      // built-ins, which an ES module does not have.
      js: [
        '#!/usr/bin/env node',
        "import { createRequire as __kubemedicRequire } from 'node:module';",
        'const require = __kubemedicRequire(import.meta.url);',
      ].join('\n'),
    },
    logLevel: 'warning',
  });
  const manifest = {
    name: 'kubemedic',
    version: root.version,
    description: `${root.description}: the kubemedic CLI (also a kubectl plugin: kubectl kubemedic)`,
    type: 'module',
    engines: root.engines,
    bin: { kubemedic: 'kubemedic.mjs', 'kubectl-kubemedic': 'kubemedic.mjs' },
    files: ['kubemedic.mjs', 'chunks/', '*.LEGAL.txt', 'README.md'],
  };
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  copyFileSync(join(repoRoot, 'docs/cli.md'), join(out, 'README.md'));
  return { dir: out, version: root.version };
}

/** The command table without its code, from the table itself. */
async function commandSpecs(): Promise<CommandSpec[]> {
  const { commands } = await import('../commands/index.ts');
  return commands.map(({ name, summary, usage, help, options }) => ({ name, summary, usage, help, options }));
}

/** `>=20.19` → 20: esbuild's target is a major version. */
function minimumNodeMajor(range: string | undefined): number {
  const major = /(\d+)/.exec(range ?? '')?.[1];
  if (!major) throw new Error(`package.json engines.node "${range}" names no Node version`);
  return Number(major);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { dir, version } = await buildCli();
  console.log(`built kubemedic ${version} in ${dir}: npm pack ${dir}`);
}

/**
 * The CLI as people install it: `npm run build:cli`'s package, packed with `npm pack` and
 * installed with `npm install --prefix` into a directory outside the checkout, offline (the
 * bundle has no runtime dependencies). Its two bins run from there, with no checkout in reach,
 * against the local stack.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { buildCli, repoRoot } from '../../cli/package/build.ts';
import { environment } from '../../devstack/stack.ts';
import { useParkedRuns } from '../support/parked-runs.ts';

const runs = useParkedRuns();
const workDir = mkdtempSync(join(tmpdir(), 'kubemedic-package-'));
const prefix = join(workDir, 'installed');
const bin = join(prefix, 'node_modules/.bin');
let version = '';

before(async () => {
  const built = await buildCli(join(workDir, 'build'));
  version = built.version;
  execFileSync('npm', ['pack', built.dir, '--pack-destination', workDir, '--silent'], { cwd: workDir });
  const tarball = join(workDir, `kubemedic-${version}.tgz`);
  mkdirSync(prefix);
  execFileSync('npm', ['install', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], {
    cwd: workDir,
  });
});

/** A program from the install, run in the work directory with nothing of the checkout on any path. */
function run(program: string, args: string[]) {
  const { KUBECONFIG, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE } = environment();
  const path = [bin, ...(process.env.PATH ?? '').split(delimiter).filter((p) => !p.startsWith(repoRoot))];
  const result = spawnSync(program, args, {
    cwd: workDir,
    encoding: 'utf8',
    env: { PATH: path.join(delimiter), HOME: workDir, KUBECONFIG, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE },
  });
  assert.equal(
    result.status,
    0,
    `${program} ${args.join(' ')}: exit ${result.status}\n${result.stdout}\n${result.stderr}`,
  );
  return result.stdout;
}

describe('kubemedic as an installed npm package', () => {
  it('installs with no dependencies, outside the checkout', () => {
    assert.ok(!workDir.startsWith(repoRoot));
    assert.deepEqual(
      readdirSync(join(prefix, 'node_modules')).filter((name) => !name.startsWith('.')),
      ['kubemedic'],
      'the package pulled in dependencies',
    );
    assert.ok(existsSync(join(bin, 'kubemedic')) && existsSync(join(bin, 'kubectl-kubemedic')));
  });

  it('prints its version under both names', () => {
    assert.equal(run('kubemedic', ['--version']), `kubemedic ${version}\n`);
    assert.equal(run('kubectl-kubemedic', ['--version']), `kubemedic ${version}\n`);
  });

  it('lists runs and finds one by its object on the local stack', { timeout: 120_000 }, async () => {
    // Given a run in a cluster of its own, its target in the kubeconfig context's namespace
    const cluster = `pkg-${randomBytes(3).toString('hex')}`;
    const handle = await runs.park(
      cluster,
      { kind: 'Deployment', namespace: 'default', name: 'web' },
      {
        namespace: 'default',
        name: 'p',
      },
    );
    await runs.listed(cluster, 1);
    // When it is listed, then the table names it (Temporal, from the installed bundle)
    assert.match(
      run('kubemedic', ['list', '--cluster', cluster]),
      new RegExp(`^${handle.workflowId}\\s+Pending`, 'm'),
    );
    // And named by its object without -n, the kubeconfig is read (the Kubernetes client's chunk) for the namespace
    const history = JSON.parse(
      run('kubemedic', ['history', 'deploy/web', '--cluster', cluster, '-o', 'json']),
    ) as {
      workflowId: string;
    };
    assert.equal(history.workflowId, handle.workflowId);
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  it(
    'is a kubectl plugin: kubectl kubemedic ...',
    { skip: kubectl ? false : 'no kubectl on this machine', timeout: 120_000 },
    async () => {
      const cluster = `pkgk-${randomBytes(3).toString('hex')}`;
      const handle = await runs.park(
        cluster,
        { kind: 'StatefulSet', namespace: 'db', name: 'pg' },
        { name: 'c' },
      );
      await runs.listed(cluster, 1);
      const listed = JSON.parse(
        run('kubectl', ['kubemedic', 'list', '--cluster', cluster, '-o', 'json']),
      ) as {
        workflowId: string;
      }[];
      assert.deepEqual(
        listed.map((r) => r.workflowId),
        [handle.workflowId],
      );
    },
  );
});

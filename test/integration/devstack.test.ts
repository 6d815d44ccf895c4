/**
 * The devstack command itself: a second `up` reuses what runs, and a taken port or a missing
 * binary fails at once with a message that names the fix.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { repoRoot } from '../../devstack/config.ts';
import { servers } from '../../devstack/servers.ts';
import { ensureStack } from '../support/stack.ts';

function devstack(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(
    join(repoRoot, 'node_modules/.bin/tsx'),
    [join(repoRoot, 'devstack/cli.ts'), ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 240_000,
    },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('npm run devstack', () => {
  before(ensureStack);

  it('reuses every running server on a second up', () => {
    const { status, output } = devstack(['up']);
    assert.equal(status, 0, output);
    for (const server of servers) assert.match(output, new RegExp(`${server.name}: already running, reused`));
    assert.doesNotMatch(output, /: started/);
  });

  it('reports every server healthy in status, with its memory', () => {
    const { status, output } = devstack(['status']);
    assert.equal(status, 0, output);
    for (const server of servers)
      assert.match(output, new RegExp(`${server.name}\\s+healthy\\s+\\d+\\s+\\d+ MiB`));
  });

  it('fails with a clear message when a port is taken', async () => {
    const state = mkdtempSync(join(tmpdir(), 'kubemedic-devstack-'));
    const blocker = createServer();
    await new Promise<void>((resolvePromise) => blocker.listen(0, '127.0.0.1', resolvePromise));
    const address = blocker.address();
    assert.ok(address !== null && typeof address === 'object');
    try {
      const { status, output } = devstack(['up'], {
        KUBEMEDIC_STATE: state,
        KUBEMEDIC_PORT_ETCD: String(address.port),
      });
      assert.equal(status, 1);
      assert.match(output, new RegExp(`etcd cannot start: port ${address.port} is taken`));
    } finally {
      blocker.close();
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('fails with a clear message when a binary has not been built', () => {
    const state = mkdtempSync(join(tmpdir(), 'kubemedic-devstack-'));
    try {
      const { status, output } = devstack(['up'], {
        KUBEMEDIC_STATE: state,
        KUBEMEDIC_CACHE: join(state, 'no-cache'),
      });
      assert.equal(status, 1);
      assert.match(output, /has not been built: run devstack\/build\.sh/);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});

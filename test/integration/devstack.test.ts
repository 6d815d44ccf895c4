/**
 * The devstack command itself: a second `up` reuses what runs, the second Kubernetes cluster
 * stands apart from the first, and a taken port or a missing binary fails at once with a
 * message that names the fix.
 */
import { ApiextensionsV1Api, CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { customResourceDefinitions } from '../../api/index.ts';
import { clusters } from '../../devstack/clusters.ts';
import { repoRoot } from '../../devstack/config.ts';
import { loadKubeconfig } from '../../devstack/environment.ts';
import { fakeNodeNames } from '../../devstack/fake-nodes.ts';
import { failedWith } from '../../domain/kube/errors.ts';
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

  it('runs a second Kubernetes cluster of its own: its objects, nodes and CRDs, apart from the first', async () => {
    const [a, b] = [loadKubeconfig(clusters.a), loadKubeconfig(clusters.b)];
    assert.equal(b.getCurrentCluster()?.server, `https://127.0.0.1:${clusters.b.ports.apiserver}`);
    // A namespace made in the first cluster is not in the second (its own etcd prefix).
    const name = `kmds-${randomBytes(3).toString('hex')}`;
    await a.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
    try {
      await assert.rejects(b.makeApiClient(CoreV1Api).readNamespace({ name }), (e) => failedWith(e, 404));
    } finally {
      await a.makeApiClient(CoreV1Api).deleteNamespace({ name });
    }
    // Its own fake nodes, Ready (its KWOK), and KubeMedic's CRDs (installed by up)
    const nodes = (await b.makeApiClient(CoreV1Api).listNode()).items;
    for (const node of fakeNodeNames) {
      const ready = nodes
        .find((n) => n.metadata?.name === node)
        ?.status?.conditions?.find((c) => c.type === 'Ready');
      assert.equal(ready?.status, 'True', `${node} Ready in the second cluster`);
    }
    const crds = (await b.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition()).items;
    for (const crd of customResourceDefinitions())
      assert.ok(
        crds.some((c) => c.metadata?.name === crd.metadata.name),
        `${crd.metadata.name} in the second cluster`,
      );
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

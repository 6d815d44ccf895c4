/**
 * The wrapper module that builds kube-apiserver must replace every staging module of the pinned
 * Kubernetes release with its published tag; a missing one fails the build in a confusing way.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { repoRoot } from '../../devstack/config.ts';

it('pins every staging module of the Kubernetes release at its v0.x.y tag', () => {
  const wrapper = readFileSync(join(repoRoot, 'devstack/modules/kubernetes/go.mod'), 'utf8');
  const release = /^\s*(?:require )?k8s\.io\/kubernetes (v1\.(\d+)\.(\d+))\b/m.exec(wrapper);
  assert.ok(release, 'the wrapper requires a k8s.io/kubernetes release');
  const [, version, minor, patch] = release;
  const download = JSON.parse(
    execFileSync('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${version}`], { encoding: 'utf8' }),
  ) as { GoMod: string };
  const staged = [
    ...readFileSync(download.GoMod, 'utf8').matchAll(/^\s*(k8s\.io\/[a-z0-9-]+) => \.\/staging\/src\//gm),
  ]
    .map((m) => m[1])
    .sort();
  const pinned = [...wrapper.matchAll(/^\s*(k8s\.io\/[a-z0-9-]+) => (k8s\.io\/[a-z0-9-]+) (v\S+)$/gm)];
  assert.ok(staged.length >= 31, `the release stages ${staged.length} modules`);
  assert.deepEqual(pinned.map((m) => m[1]).sort(), staged);
  for (const [, from, to, tag] of pinned) {
    assert.equal(to, from);
    assert.equal(tag, `v0.${minor}.${patch}`, `${from} is pinned to the release's staging tag`);
  }
});

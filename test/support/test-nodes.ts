/**
 * Fake Nodes of one test file only: tainted so no other test's Pods land on them, and deleted
 * when the file ends. Register with `useTestNodes(prefix)` at the top of the file.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { fakeNode } from '../../devstack/fake-nodes.ts';
import { kubeconfig } from './stack.ts';

export function useTestNodes(prefix: string): { create(): Promise<string> } {
  const core = () => kubeconfig().makeApiClient(CoreV1Api);
  const names: string[] = [];
  after(async () => {
    for (const name of names)
      await core()
        .deleteNode({ name })
        .catch(() => undefined);
  });
  return {
    async create() {
      const name = `${prefix}-${randomBytes(3).toString('hex')}`;
      const node = fakeNode(name);
      node.spec = { taints: [{ key: 'kubemedic.io/test-node', value: name, effect: 'NoSchedule' }] };
      await core().createNode({ body: node });
      names.push(name);
      return name;
    },
  };
}

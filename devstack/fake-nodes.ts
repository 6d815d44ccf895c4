/** The Nodes KWOK pretends to run: it marks them Ready and runs the Pods scheduled onto them. */
import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { kwokNodeAnnotation } from './servers.ts';

export const fakeNodeCount = 3;
export const fakeNodeNames = Array.from({ length: fakeNodeCount }, (_, i) => `kwok-node-${i}`);

/** A Node that KWOK runs; tests add taints of their own to keep other tests' Pods off theirs. */
export function fakeNode(name: string): V1Node {
  const resources = { cpu: '32', memory: '256Gi', pods: '110' };
  return {
    metadata: {
      name,
      annotations: { [kwokNodeAnnotation]: 'fake' },
      labels: {
        type: 'kwok',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
      },
    },
    status: { allocatable: resources, capacity: resources },
  };
}

function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export async function ensureFakeNodes(kubeconfig: KubeConfig, timeoutMs = 60_000): Promise<void> {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const existing = new Set((await core.listNode()).items.map((n) => n.metadata?.name));
  for (const name of fakeNodeNames) {
    if (!existing.has(name)) await core.createNode({ body: fakeNode(name) });
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const nodes = (await core.listNode()).items.filter((n) => fakeNodeNames.includes(n.metadata?.name ?? ''));
    if (nodes.length === fakeNodeCount && nodes.every(isReady)) return;
    if (Date.now() > deadline)
      throw new Error(`KWOK did not make the fake nodes Ready within ${timeoutMs / 1000}s`);
    await sleep(250);
  }
}

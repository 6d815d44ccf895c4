/** A worker's asks to one governor go as batches, one update in flight per governor (activities/permit-batches.ts). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { PermitRequest } from '../../domain/governor.ts';
import { PermitBatches, type Reply, type SendBatch } from '../../activities/permit-batches.ts';

const request = (workflowId: string): PermitRequest => ({ workflowId, targetKey: workflowId, limits: {} });
const granted = (workflowId: string): Reply => ({
  governor: 'g',
  granted: true,
  code: 'granted',
  reason: workflowId,
});

it('sends the first ask at once and the asks made while it is in flight as one batch, each answered in order', async () => {
  const sent: string[][] = [];
  let release: () => void = () => undefined;
  const send: SendBatch = async (_governor, requests) => {
    sent.push(requests.map((r) => r.workflowId));
    if (sent.length === 1) await new Promise<void>((resolve) => (release = resolve));
    return requests.map((r) => granted(r.workflowId));
  };
  const batches = new PermitBatches();
  const replies = ['a', 'b', 'c', 'd'].map((id) => batches.ask('g', request(id), send));
  release();
  const answers = await Promise.all(replies);
  assert.deepEqual(sent, [['a'], ['b', 'c', 'd']]);
  assert.deepEqual(
    answers.map((r) => (r === 'queued' ? r : r.reason)),
    ['a', 'b', 'c', 'd'],
  );
});

it('keeps governors apart, and fails every ask of a batch that could not be sent, then goes on', async () => {
  const sent: string[] = [];
  const send: SendBatch = async (governor, requests) => {
    sent.push(`${governor}:${requests.map((r) => r.workflowId).join(',')}`);
    if (governor === 'broken') throw new Error('unavailable');
    return requests.map(() => 'queued' as const);
  };
  const batches = new PermitBatches();
  const [bad, good] = await Promise.allSettled([
    batches.ask('broken', request('a'), send),
    batches.ask('g', request('b'), send),
  ]);
  assert.equal(bad.status, 'rejected');
  assert.deepEqual(good, { status: 'fulfilled', value: 'queued' });
  assert.equal(await batches.ask('broken', request('c'), async () => ['queued']), 'queued');
  assert.deepEqual(sent, ['broken:a', 'g:b']);
});

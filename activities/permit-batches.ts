/**
 * Asks of one worker to one governor, sent as batches: at most one update in flight per governor,
 * and the asks that arrive meanwhile go together in the next. Temporal admits only a few updates
 * in flight per workflow (history.maxInFlightUpdates, 10 by default) and the client waits a second
 * or more before retrying one refused for that, so forty runs asking at once as forty updates
 * would mostly wait; as batches they take two governor workflow tasks.
 */
import type { PermitAnswer, PermitRequest } from '../domain/governor.ts';

export type Reply = PermitAnswer | 'queued';
/** Delivers one batch to the governor (the update), returning a reply per request, in order. */
export type SendBatch = (governorId: string, requests: PermitRequest[]) => Promise<Reply[]>;

interface Waiting {
  request: PermitRequest;
  send: SendBatch;
  resolve: (reply: Reply) => void;
  reject: (error: unknown) => void;
}

export class PermitBatches {
  private readonly waiting = new Map<string, Waiting[]>();
  private readonly inFlight = new Set<string>();

  /** `send` is the asking activity's own (its client and task queue); a batch goes by its first ask's. */
  ask(governorId: string, request: PermitRequest, send: SendBatch): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(governorId) ?? [];
      queue.push({ request, send, resolve, reject });
      this.waiting.set(governorId, queue);
      if (!this.inFlight.has(governorId)) void this.flush(governorId);
    });
  }

  private async flush(governorId: string): Promise<void> {
    const batch = this.waiting.get(governorId) ?? [];
    this.waiting.delete(governorId);
    if (batch.length === 0) return;
    this.inFlight.add(governorId);
    try {
      const replies = await batch[0]!.send(
        governorId,
        batch.map((w) => w.request),
      );
      batch.forEach((w, i) => w.resolve(replies[i]!));
    } catch (error) {
      // Each ask's activity retries on its own; the update ID of a batch is not reused.
      batch.forEach((w) => w.reject(error));
    } finally {
      this.inFlight.delete(governorId);
      void this.flush(governorId);
    }
  }
}

/**
 * Webhook: tell an outside system to act (page someone, flip a flag, run a playbook). The call
 * is a JSON POST; its `Idempotency-Key` is the backup hash, so a retried activity is one
 * logical request to a receiver that honours the header. Nothing in Kubernetes changes, so the
 * backup holds no fields; undoing is the receiver's business, through `rollbackUrl` if set.
 */
import type { Action } from '../../api/policy.ts';
import { parseDuration } from '../../domain/duration.ts';
import { type ActionContext, type ActionModule, parametersOf } from './action.ts';
import {
  type Backup,
  type ExecuteResult,
  type RollbackResult,
  type TargetRef,
} from '../../domain/actions.ts';
import { makeBackup } from './fields.ts';
import { readTarget, resourceVersionOf } from './target.ts';
import { targetDisplay } from '../../domain/run.ts';
import { targetObjectRef } from '../../domain/kube/objects.ts';
import { type Answer, OutboundRefused, postChecked } from '../outbound.ts';

export interface WebhookPayload {
  event: 'execute' | 'rollback';
  target: TargetRef;
  backupHash: string;
}

/** scheme://host/path only: a query string may carry a token that must not reach logs or history. */
const redact = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
};

const timeoutOf = (block: NonNullable<Action['webhook']>) => parseDuration(block.timeout ?? '10s');

/**
 * One POST under the outbound rules (../outbound.ts): a refused address is an OutboundRefused,
 * which retrying cannot change; a failed call or an answer other than 2xx a plain Error, which
 * the activity retries. The answer's body is never read into either: it would land in the
 * workflow history, where the tenant can read what an internal service said.
 */
async function post(
  ctx: ActionContext,
  url: string,
  payload: WebhookPayload,
  idempotencyKey: string,
  timeoutMs: number,
) {
  const what = `webhook ${payload.event} POST ${redact(url)}`;
  let answer: Answer;
  try {
    answer = await postChecked(url, {
      what,
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
      body: JSON.stringify(payload),
      timeoutMs,
      rules: ctx.outbound ?? {},
      namespaced: ctx.scope?.policy.kind === 'RemediationPolicy',
    });
  } catch (error) {
    if (error instanceof OutboundRefused) throw error;
    const cause =
      error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
        ? `no answer within ${timeoutMs} ms`
        : String(error);
    throw new Error(`${what} failed: ${cause}`, { cause: error });
  }
  if (answer.status < 200 || answer.status >= 300) {
    const redirect = answer.status >= 300 && answer.status < 400 ? ' (redirects are not followed)' : '';
    throw new Error(`${what} answered ${answer.status} ${answer.statusText}${redirect}`);
  }
  return answer.status;
}

export const webhook: ActionModule = {
  type: 'Webhook',

  async backup(ctx: ActionContext, target: TargetRef, _action: Action): Promise<Backup> {
    const object = await readTarget(ctx, targetObjectRef(target));
    return makeBackup({
      target,
      action: 'Webhook',
      object: targetObjectRef(target),
      resourceVersion: resourceVersionOf(object),
      fields: {},
    });
  },

  async execute(ctx, target, action, backup): Promise<ExecuteResult> {
    const block = parametersOf(action, 'webhook');
    if (ctx.dryRun) {
      return {
        written: {},
        changes: [],
        summary: `dry run: would POST the execute event for ${targetDisplay(target)} to ${redact(block.url)}`,
      };
    }
    const status = await post(
      ctx,
      block.url,
      { event: 'execute', target, backupHash: backup.hash },
      backup.hash,
      timeoutOf(block),
    );
    return {
      written: {},
      changes: [],
      summary: `called webhook ${redact(block.url)} for ${targetDisplay(target)} (HTTP ${status})`,
    };
  },

  async rollback(ctx, backup, _executed, action): Promise<RollbackResult> {
    const block = parametersOf(action, 'webhook');
    const none = { restored: {}, conflicts: [] };
    if (!block.rollbackUrl) {
      return {
        outcome: 'NotReversible',
        reason: 'the webhook action has no rollbackUrl, so KubeMedic cannot undo what the receiver did',
        ...none,
      };
    }
    if (ctx.dryRun) {
      return {
        outcome: 'NothingToRestore',
        reason: `dry run: would POST the rollback event to ${redact(block.rollbackUrl)}`,
        ...none,
      };
    }
    // A key of its own: the rollback is a different request from the execute it undoes, even
    // when both go to the same URL.
    const status = await post(
      ctx,
      block.rollbackUrl,
      { event: 'rollback', target: backup.target, backupHash: backup.hash },
      `${backup.hash}-rollback`,
      timeoutOf(block),
    );
    return {
      outcome: 'RolledBack',
      reason: `called rollback webhook ${redact(block.rollbackUrl)} (HTTP ${status}); undoing is up to the receiver`,
      ...none,
    };
  },
};

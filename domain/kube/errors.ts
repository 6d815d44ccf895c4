/**
 * The one reading of a failed Kubernetes call, whichever client made it (the typed
 * @kubernetes/client-node APIs throw ApiException with the Status as JSON text, kubeRequest
 * throws KubeRequestError), and the one mapping of it to the refusals retrying cannot fix.
 */
import { ApiException } from '@kubernetes/client-node';
import { ActionError } from '../actions.ts';
import { KubeRequestError } from './request.ts';

export interface KubeFailure {
  /** The HTTP status: 404, 409, 422… */
  status: number;
  /** The Status reason: NotFound, Conflict, Invalid… */
  reason: string;
  /** The API server's own words. */
  message: string;
}

/** The API server's answer inside a failed call; undefined for anything else (a network error, a bug). */
export function kubeFailureOf(error: unknown): KubeFailure | undefined {
  if (error instanceof KubeRequestError)
    return { status: error.status, reason: error.reason, message: error.apiMessage };
  if (error instanceof ApiException) {
    const status = statusBody(error.body);
    return {
      status: error.code,
      reason: status.reason ?? String(error.code),
      message: status.message ?? `HTTP ${error.code}`,
    };
  }
  return undefined;
}

/** Whether the call failed with one of these HTTP statuses. */
export const failedWith = (error: unknown, ...statuses: number[]): boolean =>
  statuses.includes(kubeFailureOf(error)?.status ?? 0);

/**
 * The refusal a failed call means for `what` (an object named for people): 404 TargetGone,
 * 403 Forbidden, 400 and 422 Invalid. Anything else (409 Conflict, 429, 5xx, no answer) may pass
 * on a retry and is returned as it is; an ActionError too.
 */
export function asRefusal(error: unknown, what: string): unknown {
  const failure = kubeFailureOf(error);
  switch (failure?.status) {
    case 404:
      return new ActionError('TargetGone', `${what} no longer exists`);
    case 403:
      return new ActionError('Forbidden', `${what}: ${failure.message}`);
    case 400:
    case 422:
      return new ActionError('Invalid', `${what}: ${failure.message}`);
    default:
      return error;
  }
}

function statusBody(body: unknown): { reason?: string; message?: string } {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return { message: body };
    }
  }
  const { reason, message } = (parsed ?? {}) as { reason?: unknown; message?: unknown };
  return {
    ...(typeof reason === 'string' ? { reason } : {}),
    ...(typeof message === 'string' ? { message } : {}),
  };
}

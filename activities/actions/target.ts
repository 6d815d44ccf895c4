/**
 * The target as the actions see it: its object reference, how it is named in messages, reading
 * it, and API failures turned into the ActionErrors that retrying cannot fix.
 */
import { ApiException } from '@kubernetes/client-node';
import { KubeRequestError } from '../../domain/kube/request.ts';
import { type ActionContext } from './action.ts';
import { ActionError, type ObjectRef, type TargetRef } from '../../domain/actions.ts';
import { readObject } from './fields.ts';

export type KubeObject = Record<string, unknown>;

/** The metadata actions read from namespaced objects they fetch raw (Pods, Jobs). */
export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
}

const targetApiVersions: Record<TargetRef['kind'], string> = {
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  Pod: 'v1',
  Node: 'v1',
};

export function targetObjectRef(target: TargetRef): ObjectRef {
  return {
    apiVersion: targetApiVersions[target.kind],
    kind: target.kind,
    ...(target.namespace ? { namespace: target.namespace } : {}),
    name: target.name,
  };
}

export const describeRef = (ref: { kind: string; namespace?: string; name: string }) =>
  `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;

/** Turns an API failure into the ActionError retrying cannot fix; anything else is returned as is. */
export function kubeFailure(error: unknown, ref: ObjectRef): unknown {
  const status =
    error instanceof KubeRequestError ? error.status : error instanceof ApiException ? error.code : 0;
  const what = describeRef(ref);
  if (status === 404) return new ActionError('TargetGone', `${what} no longer exists`);
  if (status === 403) return new ActionError('Forbidden', `${what}: ${apiMessage(error)}`);
  if (status === 422) return new ActionError('Invalid', `${what}: ${apiMessage(error)}`);
  return error;
}

/** The API server's own message; client-node 2 puts the Status as JSON text in `body`. */
export function apiMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = typeof error.body === 'string' ? safeParse(error.body) : error.body;
    const message = (body as { message?: unknown } | undefined)?.message;
    return typeof message === 'string' ? message : `HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

/** The object as the API server has it; TargetGone when it no longer exists. */
export async function readTarget(
  ctx: Pick<ActionContext, 'kubeconfig'>,
  ref: ObjectRef,
): Promise<KubeObject> {
  try {
    return await readObject(ctx, ref);
  } catch (error) {
    throw kubeFailure(error, ref);
  }
}

export const resourceVersionOf = (object: KubeObject): string =>
  String((object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion ?? '');

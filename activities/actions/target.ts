/**
 * The target as the actions see it: its object reference, how it is named in messages, and
 * reading it (a failure becomes the refusal retrying cannot fix, domain/kube/errors.ts).
 */
import { asRefusal } from '../../domain/kube/errors.ts';
import { targetDisplay } from '../../domain/run.ts';
import { type ActionContext } from './action.ts';
import type { ObjectRef } from '../../domain/actions.ts';
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

/** The object as the API server has it; TargetGone when it no longer exists. */
export async function readTarget(
  ctx: Pick<ActionContext, 'kubeconfig'>,
  ref: ObjectRef,
): Promise<KubeObject> {
  try {
    return await readObject(ctx, ref);
  } catch (error) {
    throw asRefusal(error, targetDisplay(ref));
  }
}

export const resourceVersionOf = (object: KubeObject): string =>
  String((object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion ?? '');

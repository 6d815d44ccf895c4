/** A tenant's ServiceAccount with exactly the rights a test gives it, as a namespace admin would set it up. */
import type { V1PolicyRule } from '@kubernetes/client-node';
import { createServiceAccount } from '../../devstack/service-accounts.ts';
import { kubeconfig } from './stack.ts';

/** Creates ServiceAccount `name` in `namespace`, a Role `name` with `rules`, and the binding between them. */
export const givenServiceAccount = (namespace: string, name: string, rules: V1PolicyRule[]): Promise<void> =>
  createServiceAccount(kubeconfig(), namespace, name, rules);

/**
 * Where a sink's Secrets are read, and as whom. A namespaced policy's come from its own
 * namespace, read as its ServiceAccount (so KubeMedic needs no right to tenants' Secrets and a
 * tenant cannot name another namespace's); a cluster policy's and the cluster's default sinks'
 * come from KubeMedic's own namespace, read as KubeMedic (tenants cannot write there). A value
 * read here goes into one request and nowhere else: never a result, an error or a log.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { PolicyRef } from '../domain/run.ts';
import { failedWith } from '../domain/kube/errors.ts';
import { asServiceAccount } from '../domain/kube/impersonation.ts';

export interface SecretKeyRef {
  name: string;
  key: string;
}

/** Reads keys of Secrets in one namespace as one identity; each Secret once per notification. */
export interface SinkSecrets {
  /** The bytes of `ref`, for `purpose` (named in errors: "the notification signature"). */
  bytes(ref: SecretKeyRef, purpose: string): Promise<Buffer>;
  /** The text of `ref` without surrounding whitespace (a Secret made from a file often ends in a newline). */
  text(ref: SecretKeyRef, purpose: string): Promise<string>;
}

const unusable = (message: string, type: 'SecretMissing' | 'SecretUnreadable') =>
  ApplicationFailure.nonRetryable(message, type);

export function sinkSecrets(options: {
  kubeconfig: KubeConfig;
  ownNamespace: string;
  policy: PolicyRef;
  serviceAccountName: string | undefined;
  /** A default sink is the operator's: its Secrets are KubeMedic's own, whatever the policy. */
  operators: boolean;
}): SinkSecrets {
  const { policy, serviceAccountName } = options;
  const tenant = policy.namespace !== undefined && !options.operators;
  const namespace = tenant ? policy.namespace! : options.ownNamespace;
  const reader = tenant
    ? serviceAccountName && asServiceAccount(options.kubeconfig, namespace, serviceAccountName)
    : options.kubeconfig;
  const readingAs = tenant ? `ServiceAccount ${namespace}/${serviceAccountName}` : 'KubeMedic';
  const read = new Map<string, Promise<Record<string, string> | undefined>>();

  const secrets: SinkSecrets = {
    async bytes(ref, purpose) {
      const where = `Secret ${namespace}/${ref.name}`;
      if (!reader) {
        throw unusable(
          `${where} is read as the policy's ServiceAccount, and the policy names none (spec.serviceAccountName)`,
          'SecretUnreadable',
        );
      }
      let data = read.get(ref.name);
      if (!data) {
        data = reader
          .makeApiClient(CoreV1Api)
          .readNamespacedSecret({ name: ref.name, namespace })
          .then(
            (secret) => secret.data,
            (error: unknown) => {
              if (failedWith(error, 404))
                throw unusable(`${where} for ${purpose} does not exist`, 'SecretMissing');
              if (failedWith(error, 403))
                throw unusable(
                  `${readingAs} may not get ${where} for ${purpose} (grant it get on that Secret)`,
                  'SecretUnreadable',
                );
              throw error;
            },
          );
        read.set(ref.name, data);
      }
      const encoded = (await data)?.[ref.key];
      if (encoded === undefined)
        throw unusable(`${where} has no key ${ref.key} for ${purpose}`, 'SecretMissing');
      return Buffer.from(encoded, 'base64');
    },
    async text(ref, purpose) {
      return (await secrets.bytes(ref, purpose)).toString('utf8').trim();
    },
  };
  return secrets;
}

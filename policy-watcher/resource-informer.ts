/**
 * An informer on one of KubeMedic's own resources (RemediationDecision, RemediationPause), for
 * the small relays beside the policy watcher. An informer stops on any error but 410 Gone
 * (client-node issues #795, #1598), so it is started again after a pause; `healthy` says whether
 * it is listening now.
 */
import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
} from '@kubernetes/client-node';
import { group, version } from '../api/policy.ts';

export type RelayLog = (message: string, fields?: Record<string, unknown>) => void;

/** One JSON line on stdout, as the watcher's own lines. */
export const defaultRelayLog: RelayLog = (message, fields) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), message, ...fields }));

export interface ResourceInformer {
  stop(): Promise<void>;
  readonly healthy: boolean;
}

export async function watchResources<T extends KubernetesObject>(
  kubeconfig: KubeConfig,
  plural: string,
  handlers: { changed(object: T): void; deleted?(object: T): void },
  log: RelayLog,
): Promise<ResourceInformer> {
  const custom = kubeconfig.makeApiClient(CustomObjectsApi);
  const list = () =>
    custom.listClusterCustomObject({ group, version, plural }) as Promise<KubernetesListObject<T>>;
  const informer = makeInformer<T>(kubeconfig, `/apis/${group}/${version}/${plural}`, list);
  let stopped = false;
  let healthy = false;
  informer.on('add', handlers.changed);
  informer.on('update', handlers.changed);
  if (handlers.deleted) informer.on('delete', handlers.deleted);
  informer.on('error', (error: unknown) => {
    if (stopped) return; // stopping aborts the watch: not an error
    healthy = false;
    log('informer error; restarting', { plural, error: String(error) });
    setTimeout(() => {
      if (!stopped)
        informer.start().then(
          () => void (healthy = true),
          () => undefined,
        );
    }, 2_000);
  });
  await informer.start();
  healthy = true;
  return {
    async stop() {
      stopped = true;
      await informer.stop();
    },
    get healthy() {
      return healthy && !stopped;
    },
  };
}

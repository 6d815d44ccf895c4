/**
 * An informer on one of KubeMedic's own resources (RemediationDecision, RemediationPause), and
 * what the small relays beside the policy watcher share on top of it. An informer stops on any
 * error but 410 Gone (client-node issues #795, #1598), so it is started again after a pause;
 * `healthy` says whether it is listening now.
 */
import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
} from '@kubernetes/client-node';
import type { Client } from '@temporalio/client';
import { group, version } from '../api/policy.ts';
import type { LogFn } from '../domain/logging/logger.ts';

/** What every relay is given: where it listens, the Temporal it relays to, and its cluster. */
export interface RelayOptions {
  kubeconfig: KubeConfig;
  client: Client;
  cluster: string;
  /** The watcher's log (domain/logging); tests may pass `() => undefined`. */
  log: LogFn;
  /** How long to wait before trying again when Temporal or the API server did not answer. */
  retryMs?: number;
}

export interface ResourceInformer {
  stop(): Promise<void>;
  readonly healthy: boolean;
}

export async function watchResources<T extends KubernetesObject>(
  kubeconfig: KubeConfig,
  plural: string,
  handlers: { changed(object: T): void },
  log: LogFn,
): Promise<ResourceInformer> {
  const custom = kubeconfig.makeApiClient(CustomObjectsApi);
  const list = () =>
    custom.listClusterCustomObject({ group, version, plural }) as Promise<KubernetesListObject<T>>;
  const informer = makeInformer<T>(kubeconfig, `/apis/${group}/${version}/${plural}`, list);
  let stopped = false;
  let healthy = false;
  informer.on('add', handlers.changed);
  informer.on('update', handlers.changed);
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

/**
 * A relay of one resource kind to Temporal: it hears each object from an informer, relays one
 * object at a time (the informer may hand the same object over again while its relay is under
 * way), and does nothing once stopped. A subclass says what relaying an object means.
 */
export abstract class ResourceRelay<T extends KubernetesObject> {
  private informer: ResourceInformer | undefined;
  private readonly inFlight = new Set<string>();
  private stopped = false;

  constructor(
    private readonly kubeconfigOfRelay: KubeConfig,
    private readonly plural: string,
    protected readonly log: LogFn,
  ) {}

  async start(): Promise<void> {
    this.informer = await watchResources<T>(
      this.kubeconfigOfRelay,
      this.plural,
      { changed: (object) => void this.relayOnce(object) },
      this.log,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer?.stop();
  }

  get healthy(): boolean {
    return this.informer?.healthy ?? false;
  }

  /** What relaying one object means; never called twice at once for one uid. */
  protected abstract relay(object: T): Promise<void>;

  protected async relayOnce(object: T): Promise<void> {
    const uid = object.metadata?.uid ?? '';
    if (this.stopped || this.inFlight.has(uid)) return;
    this.inFlight.add(uid);
    try {
      await this.relay(object);
    } finally {
      this.inFlight.delete(uid);
    }
  }

  /** Tries again after `ms`, unless the relay has stopped by then. */
  protected retryLater(again: () => Promise<void>, ms: number): void {
    setTimeout(() => void (this.stopped || again()), ms);
  }
}

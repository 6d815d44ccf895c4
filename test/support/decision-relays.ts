/**
 * The watcher's decision and pause relays for a test file, under the chart's watcher identity,
 * for this file's KubeMedic cluster only (so a pause or decision here never reaches another
 * file's governors or runs). Register after useKubeMedic/useScenario: its client is made there.
 */
import { after, before } from 'node:test';
import { createLogger, logFn } from '../../domain/logging/logger.ts';
import { DecisionRelay } from '../../policy-watcher/decisions.ts';
import { PauseRelay } from '../../policy-watcher/pauses.ts';
import { chartIdentities } from './chart.ts';
import type { KubeMedic } from './kubemedic.ts';

export function useDecisionRelays(medic: KubeMedic) {
  const relays: { stop(): Promise<void> }[] = [];
  before(async () => {
    const options = {
      kubeconfig: (await chartIdentities()).watcher,
      // Read when used: useKubeMedic's own before hook makes the client.
      get client() {
        return medic.client;
      },
      cluster: medic.cluster,
      log: process.env.KUBEMEDIC_TEST_RELAY_LOG
        ? logFn(createLogger({ process: 'watcher', level: 'INFO' }))
        : () => undefined,
      retryMs: 500,
    };
    const decisions = new DecisionRelay(options);
    const pauses = new PauseRelay(options);
    relays.push(decisions, pauses);
    await decisions.start();
    await pauses.start();
  });
  after(async () => {
    await Promise.allSettled(relays.map((relay) => relay.stop()));
  });
}

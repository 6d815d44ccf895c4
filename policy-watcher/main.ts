/**
 * The policy watcher process. Its configuration is read once from the environment the chart
 * sets (domain/config/watcher.ts; every variable is in docs/configuration.md) and passed down;
 * a bad value stops it at start, naming the variable. Any number of replicas may run at once.
 * It logs JSON lines on stdout (domain/logging); a failure at start is logged, then exit code 1.
 * With tracing on (domain/config tracingVariables), each start of a run begins its trace
 * (domain/tracing.ts), which the worker continues.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { Client, Connection } from '@temporalio/client';
import { configurationOf } from '../domain/config/environment.ts';
import { connectionOptions } from '../domain/config/temporal-connection.ts';
import { watcherConfig } from '../domain/config/watcher.ts';
import { createLogger, logFn } from '../domain/logging/logger.ts';
import { serveMetrics } from '../domain/metrics-server.ts';
import { ownNamespace } from '../domain/kube/own-namespace.ts';
import { DecisionRelay } from './decisions.ts';
import { trackActiveRemediations, watcherRegistry } from './metrics.ts';
import { PauseRelay } from './pauses.ts';
import { PolicyWatcher } from './watcher.ts';

const config = configurationOf('kubemedic policy watcher', watcherConfig);
const logger = createLogger({ process: 'watcher', level: config.logLevel });
// The tracing SDK is loaded only when tracing is on.
const tracing = config.tracing
  ? (await import('../domain/tracing.ts')).startTracing('kubemedic-watcher')
  : undefined;
try {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromDefault();
  const connection = await Connection.connect(connectionOptions(config.temporal));
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    ...(tracing === undefined ? {} : { interceptors: { workflow: tracing.clientInterceptors } }),
  });
  const watcher = new PolicyWatcher({
    kubeconfig,
    client,
    cluster: config.cluster,
    prometheusUrl: config.prometheusUrl,
    policySelector: config.policySelector,
    requireServiceAccount: config.requireServiceAccount,
    alertReceiver: config.alertReceiver,
    log: logFn(logger),
  });
  await watcher.start();
  // RemediationDecisions and RemediationPauses, relayed to Temporal (docs/approvals.md).
  const relayOptions = { kubeconfig, client, cluster: config.cluster, log: logFn(logger) };
  const relays = [
    new DecisionRelay({
      ...relayOptions,
      clusterDecisionsNamespace: config.clusterDecisionsNamespace ?? ownNamespace(),
    }),
    new PauseRelay(relayOptions),
  ];
  for (const relay of relays) await relay.start();
  // Every series names its cluster, so one Prometheus (and the dashboard) tells clusters apart.
  watcherRegistry.setDefaultLabels({ cluster: config.cluster });
  trackActiveRemediations(client, config.cluster);
  const metrics = serveMetrics(config.metricsPort, {
    registry: watcherRegistry,
    healthy: () => watcher.healthy && relays.every((relay) => relay.healthy),
    why: 'an informer has stopped and not listed again yet',
  });
  logger.info(
    {
      cluster: config.cluster,
      policySelector: config.policySelector,
      namespace: config.temporal.namespace,
      tracing: config.tracing,
    },
    'watcher started',
  );

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'watcher stopping');
      void Promise.all([watcher.stop(), ...relays.map((relay) => relay.stop())])
        .then(() => connection.close())
        .then(() => metrics.close())
        // The spans still batched, before the process ends.
        .then(() => tracing?.shutdown())
        .then(() => process.exit(0));
    });
  }
} catch (error) {
  logger.fatal({ error }, 'watcher failed');
  process.exit(1);
}

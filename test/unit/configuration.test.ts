/**
 * Each process's configuration (domain/config/): read once from the environment the chart sets,
 * a bad value refused by naming the variable and what it allows.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { repoRoot } from '../../api/generate-crds.ts';
import { cliConfig, cliEnvironment } from '../../domain/config/cli.ts';
import { watcherConfig, watcherEnvironment } from '../../domain/config/watcher.ts';
import { workerConfig, workerEnvironment } from '../../domain/config/worker.ts';

describe('the worker configuration', () => {
  it('reads the chart environment into typed values', () => {
    // Given the variables the chart sets / When they are read
    const config = workerConfig({
      KUBEMEDIC_CLUSTER: 'prod-eu-1',
      KUBEMEDIC_PROTECTED_NAMESPACES: 'payments, kubemedic',
      KUBEMEDIC_MAX_PER_HOUR: '20',
      KUBEMEDIC_SHUTDOWN_GRACE: '45 seconds',
      KUBEMEDIC_LOG_LEVEL: 'warn',
      ALERTMANAGER_URL: '',
    });
    // Then each has its type, and an empty one is unset
    assert.equal(config.taskQueue, 'kubemedic-prod-eu-1');
    assert.deepEqual(config.activities.protectedNamespaces, ['payments', 'kubemedic']);
    assert.deepEqual(config.activities.globalLimits, { maxConcurrent: undefined, maxPerHour: 20 });
    assert.equal(config.shutdownGraceMs, 45_000);
    assert.equal(config.logLevel, 'WARN');
    assert.equal(config.activities.alertmanagerUrl, undefined);
  });

  it('has the defaults the docs name, two workers on one host differing only in their ports', () => {
    const config = workerConfig({});
    assert.deepEqual(
      [config.cluster, config.metricsPort, config.sdkMetricsPort, config.logLevel, config.shutdownGraceMs],
      ['local', 9464, 9466, 'INFO', 30_000],
    );
    assert.equal(workerConfig({ KUBEMEDIC_SDK_METRICS_PORT: '9476' }).sdkMetricsPort, 9476);
  });

  it('refuses bad values, naming each variable and what it allows', () => {
    assert.throws(
      () =>
        workerConfig({
          KUBEMEDIC_LOG_LEVEL: 'LOUD',
          KUBEMEDIC_MAX_CONCURRENT: '0',
          KUBEMEDIC_CLUSTER: 'Prod_EU',
          PROMETHEUS_URL: 'prometheus:9090',
          KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT: 'yes',
        }),
      (error: Error) => {
        for (const problem of [
          /KUBEMEDIC_LOG_LEVEL="LOUD" is not allowed: TRACE, DEBUG, INFO, WARN, ERROR/,
          /KUBEMEDIC_MAX_CONCURRENT="0" is not allowed: a positive integer/,
          /KUBEMEDIC_CLUSTER="Prod_EU" is not allowed: lowercase letters, digits and dashes/,
          /PROMETHEUS_URL="prometheus:9090" is not allowed: an http:\/\/ or https:\/\/ URL/,
          /KUBEMEDIC_REQUIRE_SERVICE_ACCOUNT="yes" is not allowed: true or false/,
        ])
          assert.match(error.message, problem);
        return true;
      },
    );
  });
});

/** The watcher needs its alert receiver's token file (or the explicit opt-out) to start at all. */
const receiverToken = { KUBEMEDIC_ALERT_RECEIVER_TOKEN_FILE: '/var/run/kubemedic/alert-receiver/token' };

describe('the watcher and CLI configurations', () => {
  it('read KUBEMEDIC_CLUSTER as the worker does: one rule, one default', () => {
    for (const env of [{}, { KUBEMEDIC_CLUSTER: 'prod-eu-1' }]) {
      const cluster = workerConfig(env).cluster;
      assert.equal(watcherConfig({ ...env, ...receiverToken }).cluster, cluster);
      assert.equal(cliConfig(env).cluster, cluster);
    }
    assert.throws(() => cliConfig({ KUBEMEDIC_CLUSTER: 'Prod_EU' }), /KUBEMEDIC_CLUSTER="Prod_EU"/);
  });

  it('reads the watcher ports and the policy selector, and refuses a selector without values', () => {
    const config = watcherConfig({ ...receiverToken, KUBEMEDIC_POLICY_SELECTOR: 'team=shop,tier=web' });
    assert.deepEqual([config.metricsPort, config.alertReceiver.port], [9465, 8091]);
    assert.equal(config.policySelector, 'team=shop,tier=web');
    assert.throws(
      () => watcherConfig({ ...receiverToken, KUBEMEDIC_POLICY_SELECTOR: 'team' }),
      /KUBEMEDIC_POLICY_SELECTOR="team" is not allowed: label=value pairs/,
    );
  });

  it('requires the alert receiver token by default, on loopback, and runs without one only when told', () => {
    // Given no variable about the receiver / Then it will not start without a token, naming the way out
    assert.throws(
      () => watcherConfig({}),
      /KUBEMEDIC_ALERT_RECEIVER_TOKEN_FILE is required while KUBEMEDIC_ALERT_RECEIVER_AUTH=token .*KUBEMEDIC_ALERT_RECEIVER_AUTH=none/,
    );
    // Given the token file / Then the receiver wants it, and listens on loopback only
    assert.deepEqual(watcherConfig(receiverToken).alertReceiver, {
      port: 8091,
      host: '127.0.0.1',
      auth: { mode: 'token', tokenFile: '/var/run/kubemedic/alert-receiver/token' },
    });
    // Given the explicit opt-out, and every interface / Then no token is wanted
    const open = watcherConfig({
      KUBEMEDIC_ALERT_RECEIVER_AUTH: 'none',
      KUBEMEDIC_ALERT_WEBHOOK_HOST: '0.0.0.0',
    });
    assert.deepEqual(open.alertReceiver, { port: 8091, host: '0.0.0.0', auth: { mode: 'none' } });
    // And a mode or an address that is not one is refused by name
    assert.throws(
      () => watcherConfig({ ...receiverToken, KUBEMEDIC_ALERT_RECEIVER_AUTH: 'basic' }),
      /KUBEMEDIC_ALERT_RECEIVER_AUTH="basic" is not allowed: token, mtls or none/,
    );
    // Given mutual TLS / Then it needs all three files, and takes them
    assert.throws(
      () =>
        watcherConfig({
          KUBEMEDIC_ALERT_RECEIVER_AUTH: 'mtls',
          KUBEMEDIC_ALERT_RECEIVER_TLS_CERT: '/tls/tls.crt',
        }),
      /KUBEMEDIC_ALERT_RECEIVER_AUTH=mtls needs KUBEMEDIC_ALERT_RECEIVER_TLS_CERT, KUBEMEDIC_ALERT_RECEIVER_TLS_KEY and KUBEMEDIC_ALERT_RECEIVER_CLIENT_CA/,
    );
    const mtls = watcherConfig({
      KUBEMEDIC_ALERT_RECEIVER_AUTH: 'mtls',
      KUBEMEDIC_ALERT_RECEIVER_TLS_CERT: '/tls/tls.crt',
      KUBEMEDIC_ALERT_RECEIVER_TLS_KEY: '/tls/tls.key',
      KUBEMEDIC_ALERT_RECEIVER_CLIENT_CA: '/tls/ca.crt',
    });
    assert.deepEqual(mtls.alertReceiver.auth, {
      mode: 'mtls',
      certFile: '/tls/tls.crt',
      keyFile: '/tls/tls.key',
      clientCaFile: '/tls/ca.crt',
    });
    assert.throws(
      () => watcherConfig({ ...receiverToken, KUBEMEDIC_ALERT_WEBHOOK_HOST: 'all' }),
      /KUBEMEDIC_ALERT_WEBHOOK_HOST="all" is not allowed: an IP address/,
    );
  });

  it('takes who acts from USER, else USERNAME', () => {
    assert.equal(cliConfig({ USER: 'alice', USERNAME: 'bob' }).user, 'alice');
    assert.equal(cliConfig({ USERNAME: 'bob' }).user, 'bob');
  });
});

it('names the Temporal variables the CLI and the watcher read as the worker does', () => {
  const temporal = (shape: object) => Object.keys(shape).filter((name) => name.startsWith('TEMPORAL_'));
  assert.deepEqual(temporal(cliEnvironment.shape), temporal(workerEnvironment.shape));
  assert.deepEqual(temporal(watcherEnvironment.shape), temporal(workerEnvironment.shape));
});

describe('a process with a bad value', () => {
  for (const [main, variable] of [
    ['worker/main.ts', 'KUBEMEDIC_SDK_METRICS_PORT'],
    ['policy-watcher/main.ts', 'KUBEMEDIC_ALERT_WEBHOOK_PORT'],
  ] as const) {
    it(`${main} stops at start with exit code 78, naming ${variable}`, () => {
      // Given a port that is no port / When the process starts (before it connects to anything)
      const started = spawnSync(process.execPath, ['--import', 'tsx', main], {
        cwd: repoRoot,
        env: { ...process.env, [variable]: 'ninety' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      // Then it stops at once and says which variable and what it allows
      assert.equal(started.status, 78, started.stderr);
      assert.match(
        started.stderr,
        new RegExp(`invalid configuration: ${variable}="ninety" is not allowed: a port`),
      );
    });
  }
});

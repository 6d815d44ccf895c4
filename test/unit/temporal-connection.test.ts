/** How the worker, the watcher and the CLI turn Temporal's client configuration into connection options. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { TLSConfig } from '@temporalio/client';
import { cliConfig } from '../../domain/config/cli.ts';
import { temporalConnectionOptions } from '../../domain/config/temporal-connection.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubemedic-tls-'));
const file = (name: string, content: string) => {
  writeFileSync(join(dir, name), content);
  return join(dir, name);
};
const tlsOf = (options: { tls?: TLSConfig | boolean }): TLSConfig => {
  assert.equal(typeof options.tls, 'object', `TLS options expected, got ${String(options.tls)}`);
  return options.tls as TLSConfig;
};

describe('temporalConnectionOptions', () => {
  it('connects in plain text to the given address when nothing else is set', () => {
    // Given only an address / When the options are built / Then no TLS and no API key
    assert.deepEqual(temporalConnectionOptions({ TEMPORAL_ADDRESS: 'temporal:7233' }), {
      address: 'temporal:7233',
      tls: undefined,
      apiKey: undefined,
      metadata: undefined,
    });
    assert.equal(temporalConnectionOptions({}).address, '127.0.0.1:7233');
    assert.equal(cliConfig({}).temporal.namespace, 'default');
  });

  it("reads the mounted client certificate, key and CA by envconfig's names", () => {
    const options = temporalConnectionOptions({
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('tls.crt', 'CERT'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('tls.key', 'KEY'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.crt', 'CA'),
      TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal',
    });
    // Then the files' contents are handed to the connection
    const tls = tlsOf(options);
    assert.equal(tls.clientCertPair?.crt.toString(), 'CERT');
    assert.equal(tls.clientCertPair?.key.toString(), 'KEY');
    assert.equal(tls.serverRootCACertificate?.toString(), 'CA');
    assert.equal(tls.serverNameOverride, 'frontend.temporal');
  });

  it('still reads the older names TEMPORAL_TLS_CERT, _KEY and _CA', () => {
    const tls = tlsOf(
      temporalConnectionOptions({
        TEMPORAL_TLS_CERT: file('old.crt', 'OLD CERT'),
        TEMPORAL_TLS_KEY: file('old.key', 'OLD KEY'),
        TEMPORAL_TLS_CA: file('old-ca.crt', 'OLD CA'),
      }),
    );
    assert.equal(tls.clientCertPair?.crt.toString(), 'OLD CERT');
    assert.equal(tls.clientCertPair?.key.toString(), 'OLD KEY');
    assert.equal(tls.serverRootCACertificate?.toString(), 'OLD CA');
  });

  it('refuses an older name beside its standard one', () => {
    assert.throws(
      () =>
        temporalConnectionOptions({
          TEMPORAL_TLS_CA: file('a.crt', 'A'),
          TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('b.crt', 'B'),
        }),
      /TEMPORAL_TLS_CA is the older name of TEMPORAL_TLS_SERVER_CA_CERT_PATH: set one of them/,
    );
  });

  it('passes an API key on, with TLS on', () => {
    const options = temporalConnectionOptions({ TEMPORAL_API_KEY: 'secret' });
    assert.equal(options.apiKey, 'secret');
    assert.equal(options.tls, true);
  });

  it('turns TLS off when TEMPORAL_TLS says so', () => {
    assert.equal(temporalConnectionOptions({ TEMPORAL_API_KEY: 'secret', TEMPORAL_TLS: 'false' }).tls, false);
  });

  it('refuses a certificate without its key, naming both variables', () => {
    assert.throws(
      () => temporalConnectionOptions({ TEMPORAL_TLS_CERT: file('only.crt', 'CERT') }),
      /client certificate \(TEMPORAL_TLS_CLIENT_CERT_PATH or TEMPORAL_TLS_CERT\) and its key .* go together/,
    );
  });
});

describe('a temporal.toml profile', () => {
  const toml = file(
    'temporal.toml',
    [
      '[profile.default]',
      'address = "default.example:7233"',
      'namespace = "from-default"',
      '',
      '[profile.prod]',
      'address = "prod.example:7233"',
      'namespace = "from-prod"',
      'api_key = "prod-key"',
      '',
    ].join('\n'),
  );

  it('gives the address and namespace of the profile TEMPORAL_PROFILE names', () => {
    const config = cliConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' }).temporal;
    assert.equal(config.address, 'prod.example:7233');
    assert.equal(config.namespace, 'from-prod');
    assert.equal(config.apiKey, 'prod-key');
  });

  it('is overridden by the TEMPORAL_* variables', () => {
    const config = cliConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_NAMESPACE: 'mine' }).temporal;
    assert.equal(config.address, 'default.example:7233');
    assert.equal(config.namespace, 'mine');
  });

  it('is found where the temporal CLI keeps it (XDG_CONFIG_HOME/temporalio/temporal.toml)', () => {
    const home = mkdtempSync(join(tmpdir(), 'kubemedic-xdg-'));
    mkdirSync(join(home, 'temporalio'));
    writeFileSync(
      join(home, 'temporalio', 'temporal.toml'),
      '[profile.default]\naddress = "xdg.example:7233"\n',
    );
    assert.equal(cliConfig({ XDG_CONFIG_HOME: home }).temporal.address, 'xdg.example:7233');
  });

  it('refuses a profile that is not in the file, naming the file', () => {
    assert.throws(
      () => cliConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' }),
      (error: Error) => error.message.includes(toml) && /Profile 'staging' not found/.test(error.message),
    );
  });
});

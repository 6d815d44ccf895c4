/** How the worker and the watcher turn the chart's Temporal settings into connection options. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cliConfig } from '../../domain/config/cli.ts';
import { temporalConnectionOptions } from '../../domain/config/temporal-connection.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubemedic-tls-'));
const file = (name: string, content: string) => {
  writeFileSync(join(dir, name), content);
  return join(dir, name);
};

describe('temporalConnectionOptions', () => {
  it('connects in plain text to the given address when nothing else is set', () => {
    // Given only an address / When the options are built / Then no TLS and no API key
    assert.deepEqual(temporalConnectionOptions({ TEMPORAL_ADDRESS: 'temporal:7233' }), {
      address: 'temporal:7233',
      tls: undefined,
      apiKey: undefined,
    });
    assert.equal(cliConfig({}).temporal.namespace, 'default');
  });

  it('reads the mounted client certificate, key and CA for mutual TLS', () => {
    // Given the paths the chart sets when temporal.tls is enabled
    const options = temporalConnectionOptions({
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_TLS_CERT: file('tls.crt', 'CERT'),
      TEMPORAL_TLS_KEY: file('tls.key', 'KEY'),
      TEMPORAL_TLS_CA: file('ca.crt', 'CA'),
      TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal',
    });
    // Then the files' contents are handed to the connection
    assert.equal(options.tls?.clientCertPair?.crt.toString(), 'CERT');
    assert.equal(options.tls?.clientCertPair?.key.toString(), 'KEY');
    assert.equal(options.tls?.serverRootCACertificate?.toString(), 'CA');
    assert.equal(options.tls?.serverNameOverride, 'frontend.temporal');
  });

  it('passes an API key on (the SDK then turns TLS on)', () => {
    const options = temporalConnectionOptions({ TEMPORAL_API_KEY: 'secret' });
    assert.equal(options.apiKey, 'secret');
    assert.equal(options.tls, undefined);
  });

  it('refuses a certificate without its key, naming both variables', () => {
    assert.throws(
      () => temporalConnectionOptions({ TEMPORAL_TLS_CERT: file('only.crt', 'CERT') }),
      /TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together/,
    );
  });
});

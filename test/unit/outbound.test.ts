/**
 * The outbound checks (activities/outbound.ts), row by row: what a webhook or a notification
 * sink may reach from the worker's network position. The integration tests (actions-cluster,
 * notify) show the same refusals on real sockets, DNS resolution included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressRefusal, hostAllowed, type OutboundRules } from '../../activities/outbound.ts';

const clusterRanges: OutboundRules = { deniedCidrs: ['10.96.0.0/12', 'fd00:10:96::/108'] };

const addresses: { address: string; rules?: OutboundRules; refused: RegExp | undefined }[] = [
  { address: '169.254.169.254', refused: /link-local, metadata/ },
  { address: '169.254.1.1', refused: /link-local/ },
  { address: 'fd00:ec2::254', refused: /metadata/ },
  { address: 'fe80::1', refused: /link-local/ },
  { address: '0.0.0.0', refused: /unspecified/ },
  { address: '::', refused: /unspecified/ },
  { address: '127.0.0.1', refused: /loopback/ },
  { address: '127.8.9.10', refused: /loopback/ },
  { address: '::1', refused: /loopback/ },
  { address: '::ffff:127.0.0.1', refused: /^127\.0\.0\.1 is a loopback/ },
  { address: '::ffff:a9fe:a9fe', refused: /^169\.254\.169\.254 is a link-local/ },
  { address: '127.0.0.1', rules: { allowLoopback: true }, refused: undefined },
  // The opt-in is for loopback only: the metadata address stays refused
  { address: '169.254.169.254', rules: { allowLoopback: true }, refused: /metadata/ },
  { address: '10.96.0.1', rules: clusterRanges, refused: /cluster's own ranges/ },
  { address: '10.111.255.255', rules: clusterRanges, refused: /cluster's own ranges/ },
  { address: 'fd00:10:96::1', rules: clusterRanges, refused: /cluster's own ranges/ },
  { address: '10.112.0.1', rules: clusterRanges, refused: undefined },
  { address: '10.96.0.1', refused: undefined },
  { address: '93.184.215.14', refused: undefined },
  { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', refused: undefined },
];

describe('addressRefusal', () => {
  for (const row of addresses)
    it(`${row.address}${row.rules ? ` with ${JSON.stringify(row.rules)}` : ''}: ${row.refused ? 'refused' : 'allowed'}`, () => {
      const refusal = addressRefusal(row.address, row.rules ?? {});
      if (row.refused === undefined) assert.equal(refusal, undefined);
      else assert.match(refusal ?? '(allowed)', row.refused);
    });
});

const hosts: { host: string; allow: string[] | undefined; allowed: boolean }[] = [
  { host: 'hooks.example.com', allow: undefined, allowed: true },
  { host: 'hooks.example.com', allow: ['hooks.example.com'], allowed: true },
  { host: 'HOOKS.example.com', allow: ['hooks.example.com'], allowed: true },
  { host: 'evil.example.com', allow: ['hooks.example.com'], allowed: false },
  { host: 'a.hooks.slack.com', allow: ['*.slack.com'], allowed: true },
  { host: 'slack.com', allow: ['*.slack.com'], allowed: false },
  { host: 'evilslack.com', allow: ['*.slack.com'], allowed: false },
];

describe('hostAllowed', () => {
  for (const row of hosts)
    it(`${row.host} under ${JSON.stringify(row.allow)}: ${row.allowed ? 'allowed' : 'refused'}`, () =>
      assert.equal(hostAllowed(row.host, row.allow), row.allowed));
});

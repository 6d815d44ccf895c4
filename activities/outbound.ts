/**
 * Every HTTP call KubeMedic makes to a URL a policy wrote (webhook actions, notification sinks)
 * goes through `postJson`, because the worker calls from its own network position: a tenant's
 * URL must not reach the cloud metadata service, the API server, Prometheus' admin API or a
 * loopback port.
 *
 * - The host is resolved once; every address it resolves to is checked (loopback, link-local
 *   with the metadata address, unspecified, and the cluster's own ranges the operator lists),
 *   and the connection goes to a checked address (the socket's `lookup` is this check), so a
 *   DNS answer that changes between check and connect cannot swap it.
 * - A namespaced policy may only call hosts on the operator's allowlist, when one is set.
 * - Redirects are not followed: a 3xx is a failure like any other.
 * - The response body (and the receiver's own reason phrase) is never read into a result or an
 *   error: those land in the workflow history, which the tenant can read.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage, STATUS_CODES } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ActionError } from '../domain/actions.ts';

export interface OutboundRules {
  /**
   * Hosts a namespaced policy may call (exact, or `*.example.com` for its subdomains); unset or
   * empty: any host whose addresses pass the checks. Cluster policies are the operator's own.
   */
  allowHosts?: readonly string[];
  /** The cluster's service and pod ranges (CIDR), refused like loopback. */
  deniedCidrs?: readonly string[];
  /** Allow loopback addresses: for tests whose receivers listen on 127.0.0.1 only. */
  allowLoopback?: boolean;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** Never reachable from a policy: link-local (169.254.169.254, the metadata address, among them), unspecified. */
const alwaysRefused = new BlockList();
alwaysRefused.addSubnet('169.254.0.0', 16, 'ipv4');
alwaysRefused.addSubnet('0.0.0.0', 8, 'ipv4');
alwaysRefused.addSubnet('fe80::', 10, 'ipv6');
alwaysRefused.addAddress('::', 'ipv6');
// AWS's IPv6 metadata address, inside the otherwise ordinary fc00::/7
alwaysRefused.addAddress('fd00:ec2::254', 'ipv6');

/**
 * An IPv4 address written as IPv6 (::ffff:127.0.0.1, or ::ffff:7f00:1 as URLs normalise it) is
 * checked, and named, as the IPv4 it is.
 */
function unmapped(address: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted?.[1]) return dotted[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex?.[1] || !hex[2]) return address;
  const [high, low] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

function operatorRanges(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network = '', bits = ''] = cidr.split('/');
    const family = isIP(network) === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(network, Number(bits), family);
  }
  return list;
}

/** Why an address may not be called, or undefined when it may. */
export function addressRefusal(address: string, rules: OutboundRules): string | undefined {
  const ip = unmapped(address);
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (alwaysRefused.check(ip, family)) return `${ip} is a link-local, metadata or unspecified address`;
  if (!rules.allowLoopback && loopback.check(ip, family)) return `${ip} is a loopback address`;
  if (operatorRanges(rules.deniedCidrs ?? []).check(ip, family))
    return `${ip} is in the cluster's own ranges (${(rules.deniedCidrs ?? []).join(', ')})`;
  return undefined;
}

/** Whether a namespaced policy may call `host` under the operator's allowlist. */
export function hostAllowed(host: string, allowHosts: readonly string[] | undefined): boolean {
  if (!allowHosts || allowHosts.length === 0) return true;
  const name = host.toLowerCase();
  return allowHosts.some((entry) => {
    const allowed = entry.toLowerCase();
    return allowed.startsWith('*.') ? name.endsWith(allowed.slice(1)) : name === allowed;
  });
}

/** A call refused before any byte was sent: retrying cannot change it. */
export class OutboundRefused extends ActionError {
  constructor(message: string) {
    super('Forbidden', message);
  }
}

/** The socket's lookup: resolves, refuses unless every address passes, connects to a checked one. */
function checkedLookup(rules: OutboundRules, what: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refusals = addresses.map((a) => addressRefusal(a.address, rules)).filter((r) => r !== undefined);
      const [first] = addresses;
      if (refusals.length > 0 || first === undefined)
        return callback(
          new OutboundRefused(`${what}: ${hostname} resolves to ${refusals.join('; ') || 'nothing'}`),
          '',
          0,
        );
      if (options.all) return callback(null, addresses);
      return callback(null, first.address, first.family);
    });
  };
}

export interface PostOptions {
  /** How the call is named in messages; never the URL's path or query, which may hold a token. */
  what: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  rules: OutboundRules;
  /** For a namespaced policy the operator's allowlist applies. */
  namespaced: boolean;
}

/** The answer's status line only: the body is drained and dropped. */
export interface Answer {
  status: number;
  statusText: string;
}

/** POSTs `body` to `url` under the rules; rejects with OutboundRefused when they forbid the call. */
export async function postChecked(url: string, options: PostOptions): Promise<Answer> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    throw new OutboundRefused(`${options.what}: only http and https URLs are called`);
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  if (options.namespaced && !hostAllowed(host, options.rules.allowHosts))
    throw new OutboundRefused(
      `${options.what}: ${host} is not among the hosts the operator allows namespaced policies to call`,
    );
  // An address written in the URL is connected to without a lookup: checked here instead.
  const literal = isIP(host) ? addressRefusal(host, options.rules) : undefined;
  if (literal) throw new OutboundRefused(`${options.what}: ${literal}`);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Answer>((resolve, reject) => {
    const call = send(
      target,
      {
        method: 'POST',
        headers: { ...options.headers, 'Content-Length': Buffer.byteLength(options.body) },
        lookup: checkedLookup(options.rules, options.what),
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (response: IncomingMessage) => {
        response.resume();
        // The standard reason phrase, not the receiver's: its own could carry what it wants the
        // tenant to read in the history as well as a body could.
        const status = response.statusCode ?? 0;
        response.on('end', () => resolve({ status, statusText: STATUS_CODES[status] ?? '' }));
        response.on('error', reject);
      },
    );
    call.on('error', reject);
    call.end(options.body);
  });
}

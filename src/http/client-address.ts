/**
 * The client's address as parley counts it: the console's sign-in throttle and the web chat's
 * limits (through the adapter kit).
 */
import { isIP } from 'node:net';
import type { HttpRequest } from '../adapter.js';

/**
 * TRUST_PROXY: `false` trusts no proxy; `true` trusts the left-most X-Forwarded-For entry (right
 * only when the proxy replaces the header); a number is how many proxies stand in front of parley
 * (Express's `trust proxy` hop count), for proxies that append to the header.
 */
export type TrustProxy = boolean | number;

/**
 * The connection's address; with `trustProxy: true` the left-most X-Forwarded-For entry (the
 * client as the first proxy saw it); with a hop count N the N-th entry from the right (what the
 * N-th proxy back appended: a client's own X-Forwarded-For only adds entries further left), or the
 * left-most when there are fewer. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) reads as IPv4.
 */
export function clientAddress(request: HttpRequest, trustProxy: TrustProxy): string {
  if (trustsProxy(trustProxy)) {
    const entries = (request.headers['x-forwarded-for'] ?? '').split(',');
    const index = trustProxy === true ? 0 : Math.max(0, entries.length - Math.floor(trustProxy as number));
    const forwarded = plainAddress(entries[index]);
    if (forwarded) return forwarded;
  }
  return plainAddress(request.remoteAddress) ?? 'unknown';
}

/** Whether any proxy is trusted: `true` or a hop count of at least 1 (0 is `false`). */
export function trustsProxy(trustProxy: TrustProxy): boolean {
  return trustProxy === true || (typeof trustProxy === 'number' && trustProxy >= 1);
}

function plainAddress(value: string | undefined): string | undefined {
  let address = value?.trim().toLowerCase();
  if (!address) return undefined;
  // "[::1]:1234" and "1.2.3.4:1234": some proxies write the port too.
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'));
  address = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return isIP(address) ? address : undefined;
}

/** The key an address counts under: IPv6 by its /64 (what one client usually holds), IPv4 one by one. */
export function addressKey(ip: string): string {
  const address = ip.toLowerCase();
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

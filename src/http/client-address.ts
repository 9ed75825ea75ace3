/**
 * The client's address as parley counts it: the console's sign-in throttle and the web chat's
 * limits (through the adapter kit).
 */
import { isIP } from 'node:net';
import type { HttpRequest } from '../adapter.js';

/**
 * The connection's address, or with `trustProxy` the left-most X-Forwarded-For entry (the client
 * as the first proxy saw it). IPv4-mapped IPv6 (`::ffff:1.2.3.4`) reads as IPv4.
 */
export function clientAddress(request: HttpRequest, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = plainAddress(request.headers['x-forwarded-for']?.split(',')[0]);
    if (forwarded) return forwarded;
  }
  return plainAddress(request.remoteAddress) ?? 'unknown';
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

import { trustsProxy, type TrustProxy } from './client-address.js';

export interface UrlOptions {
  publicUrl?: string;
  /** `true` or a hop count: X-Forwarded-Proto/Host are trusted either way. */
  trustProxy: TrustProxy;
}

/**
 * The URL the caller used — what platforms sign (Twilio). PUBLIC_URL wins; otherwise Host, and
 * X-Forwarded-Proto/Host only when TRUST_PROXY says a proxy we trust sets them.
 */
export function requestUrl(
  pathAndQuery: string,
  headers: Record<string, string | undefined>,
  encrypted: boolean,
  options: UrlOptions,
): URL {
  return requestUrls(pathAndQuery, headers, encrypted, options).url;
}

/**
 * The same URL, parsed, and as it came (`received`): `new URL()` re-encodes a path and query
 * (`'` → `%27`), while Twilio signs the string it sent (`?name=William+O'hara`), which no
 * re-encoding of the parsed URL gives back.
 */
export function requestUrls(
  pathAndQuery: string,
  headers: Record<string, string | undefined>,
  encrypted: boolean,
  options: UrlOptions,
): { url: URL; received: string } {
  if (options.publicUrl) {
    const { origin, path: basePath } = publicBase(options.publicUrl);
    // A proxy that keeps PUBLIC_URL's path passes it on; one that strips it does not: either way, once.
    const kept = basePath !== '' && underBase(pathAndQuery.split('?')[0] as string, basePath);
    const received = `${origin}${kept ? '' : basePath}${pathAndQuery}`;
    return { url: new URL(received), received };
  }
  const trusted = trustsProxy(options.trustProxy);
  const proto = (trusted && first(headers['x-forwarded-proto'])) || (encrypted ? 'https' : 'http');
  const claimed = (trusted && first(headers['x-forwarded-host'])) || headers.host;
  // A Host header is the sender's word: anything but a host[:port] could rewrite the path we route on.
  const host = claimed && validHost.test(claimed) ? claimed : 'localhost';
  // A scheme is case-insensitive (RFC 3986): a proxy that sends `HTTPS` means https.
  const scheme = proto.toLowerCase() === 'https' ? 'https' : 'http';
  const path = pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`;
  try {
    const received = `${scheme}://${host}${path}`;
    return { url: new URL(received), received };
  } catch {
    // Shaped like a host yet no host at all (`localhost:99999`, `1.2.3.4.5`): read as the unnamed one.
    const received = `${scheme}://localhost${path}`;
    return { url: new URL(received), received };
  }
}

/**
 * A request target in origin form (`/path?query`): one in absolute form (`http://host/path?query`,
 * which RFC 9112 has servers accept, and some proxies send) loses its scheme and host; Host names it.
 */
export function originForm(target: string): string {
  if (target.charCodeAt(0) === 47) return target; // '/': the usual form, at no cost
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  if (!absolute) return target;
  const rest = target.slice(absolute[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/**
 * The path parley routes on, from the path as mounted (an embedding app has already taken its own
 * prefix off): PUBLIC_URL's path is taken off too when the request still carries it, so
 * `PUBLIC_URL=https://example.com/bot` serves `/bot/slack/events` behind a proxy that keeps the
 * prefix, and in a fetch handler (Next.js, Hono) that gets the whole URL.
 */
export function routePath(mountedPath: string, options: Pick<UrlOptions, 'publicUrl'>): string {
  if (!options.publicUrl) return mountedPath;
  const basePath = publicBase(options.publicUrl).path;
  return basePath !== '' && underBase(mountedPath, basePath) ? mountedPath.slice(basePath.length) || '/' : mountedPath;
}

function underBase(path: string, basePath: string): boolean {
  return path === basePath || path.startsWith(`${basePath}/`);
}

/** PUBLIC_URL's origin and path (no trailing slash), parsed once: it is read on every request. */
function publicBase(publicUrl: string): { origin: string; path: string } {
  if (parsedBase?.publicUrl !== publicUrl) {
    const base = new URL(publicUrl);
    parsedBase = { publicUrl, origin: base.origin, path: base.pathname.replace(/\/+$/, '') };
  }
  return parsedBase;
}
let parsedBase: { publicUrl: string; origin: string; path: string } | undefined;

/** The first of a comma-separated header's values (proxies append theirs). */
function first(value: string | undefined): string | undefined {
  return value?.split(',')[0]?.trim() || undefined;
}

const validHost = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

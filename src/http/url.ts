export interface UrlOptions {
  publicUrl?: string;
  trustProxy: boolean;
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
  if (options.publicUrl) {
    const base = new URL(options.publicUrl);
    const basePath = base.pathname.replace(/\/$/, '');
    return new URL(`${base.origin}${basePath}${pathAndQuery}`);
  }
  const proto = (options.trustProxy && first(headers['x-forwarded-proto'])) || (encrypted ? 'https' : 'http');
  const claimed = (options.trustProxy && first(headers['x-forwarded-host'])) || headers.host;
  // A Host header is the sender's word: anything but a host[:port] could rewrite the path we route on.
  const host = claimed && validHost.test(claimed) ? claimed : 'localhost';
  const scheme = proto === 'https' ? 'https' : 'http';
  const path = pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`;
  try {
    return new URL(`${scheme}://${host}${path}`);
  } catch {
    // Shaped like a host yet no host at all (`localhost:99999`, `1.2.3.4.5`): read as the unnamed one.
    return new URL(`${scheme}://localhost${path}`);
  }
}

/** The first of a comma-separated header's values (proxies append theirs). */
function first(value: string | undefined): string | undefined {
  return value?.split(',')[0]?.trim() || undefined;
}

const validHost = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

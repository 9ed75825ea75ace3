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
  const first = (value: string | undefined) => value?.split(',')[0]?.trim() || undefined;
  const proto = (options.trustProxy && first(headers['x-forwarded-proto'])) || (encrypted ? 'https' : 'http');
  const host = (options.trustProxy && first(headers['x-forwarded-host'])) || headers.host || 'localhost';
  try {
    return new URL(`${proto}://${host}${pathAndQuery}`);
  } catch {
    return new URL(`${proto}://localhost${pathAndQuery}`);
  }
}

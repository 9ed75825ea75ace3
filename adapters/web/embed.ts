/**
 * Putting the web chat on a website: the pages (the full chat at `/`, the frame at `/web/frame`
 * that the widget opens), their script and style (`/web/assets/*`), the widget script
 * (`/web/widget.js`), the pages' security headers, and CORS for the JSON API.
 *
 * - The pages run only the server's own script and style (CSP without 'unsafe-inline'): the
 *   client is adapters/web/assets/chat.js and the ES modules it imports, never an inline script.
 * - `/` may not be framed at all; `/web/frame` only by the server itself and the origins in
 *   WEB_ALLOWED_ORIGINS (frame-ancestors).
 * - The JSON API answers browsers on those origins too (CORS, bearer tokens, no cookies):
 *   an allowed Origin gets `access-control-allow-origin`; a preflight from any other is a 403.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HttpError, jsonError, pathOf, type HttpRequest, type HttpResponse, type LimitRefusal, type Received, type Route } from 'parley/adapter-kit';

export interface EmbedOptions {
  /** Serve the full chat page at `/`. The frame and the widget are always served. */
  page?: boolean;
  /** The origins that may frame the chat and call its API; asked per request (known once the adapter started). */
  allowedOrigins(): readonly string[];
}

/** The files served, by URL path: name relative to this module, content type, cache policy. */
const FILES = {
  page: { file: './page.html', type: 'text/html; charset=utf-8' },
  frame: { file: './frame.html', type: 'text/html; charset=utf-8' },
  widget: { file: './widget.js', type: 'text/javascript; charset=utf-8' },
  'chat.css': { file: './assets/chat.css', type: 'text/css; charset=utf-8' },
  // The client's ES modules: chat.js, the one the pages load, imports the others.
  'chat.js': { file: './assets/chat.js', type: 'text/javascript; charset=utf-8' },
  'api.js': { file: './assets/api.js', type: 'text/javascript; charset=utf-8' },
  'transcript.js': { file: './assets/transcript.js', type: 'text/javascript; charset=utf-8' },
  'markdown.js': { file: './assets/markdown.js', type: 'text/javascript; charset=utf-8' },
  'frame.js': { file: './assets/frame.js', type: 'text/javascript; charset=utf-8' },
} as const;
type FileName = keyof typeof FILES;
/** The modules chat.js imports. */
const IMPORTED: readonly FileName[] = ['api.js', 'transcript.js', 'markdown.js', 'frame.js'];
/** What /web/assets/<name> serves: these and nothing else (a fixed list: no path is ever built from the URL). */
const ASSETS: readonly FileName[] = ['chat.css', 'chat.js', ...IMPORTED];

/**
 * A GET of a module chat.js imports. The request limits leave these out, so opening the chat costs
 * what it did when the client was one script (page, style, script, session); chat.js itself counts.
 */
export function isImportedModule(request: HttpRequest): boolean {
  const path = pathOf(request);
  return request.method === 'GET' && path.startsWith('/web/assets/') && IMPORTED.includes(path.slice('/web/assets/'.length) as FileName);
}

/** The widget is cached by websites' visitors for a few minutes; a new version reaches them soon after. */
const WIDGET_MAX_AGE_S = 300;
/** How long a browser may reuse a preflight's answer. */
const PREFLIGHT_MAX_AGE_S = 600;
export const CORS_METHODS = 'GET, POST, DELETE';
export const CORS_HEADERS = 'authorization, content-type';
/** The JSON API's paths that cross-origin callers may preflight. */
const API_PATHS = ['/web/messages', '/web/sessions', '/web/conversations', '/web/conversations/', '/web/feedback'];

/**
 * Origins as CSP and CORS compare them, the way a browser sends `Origin`: scheme, host and port,
 * lower case, no default port, an international host in punycode; anything else (a wildcard, a
 * user, a path) is dropped (WEB_ALLOWED_ORIGINS refuses those at start; code may still pass them).
 */
function cleanOrigins(origins: readonly string[]): string[] {
  return origins.flatMap((given) => {
    const text = given.trim().replace(/\/+$/, '');
    if (text.includes('*') || /^https?:\/\/[^/]*[/?#]/i.test(text)) return [];
    try {
      const url = new URL(text);
      if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return [];
      return /^https?:\/\/(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/.test(url.origin) ? [url.origin] : [];
    } catch {
      return [];
    }
  });
}

/** The headers every chat page gets; `frameAncestors` says who may frame it. */
export function pageHeaders(frameAncestors: string): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'content-security-policy': [
      "default-src 'self'",
      "img-src 'self' data:",
      "style-src 'self'",
      "script-src 'self'",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      `frame-ancestors ${frameAncestors}`,
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

/** How a cross-origin caller is answered: CORS headers to add, and whether its origin is allowed. */
export interface CorsVerdict {
  /** False only for a browser on an origin that is neither this server's nor allowed. */
  allowed: boolean;
  headers: Record<string, string>;
}

/**
 * CORS for one API request. No Origin (curl, a server) or this server's own origin: allowed, no
 * CORS headers needed. An origin in `allowedOrigins`: `access-control-allow-origin` for it.
 * Any other: not allowed, and no allow-origin header, so the browser keeps the answer from it.
 */
export function cors(request: HttpRequest, allowedOrigins: readonly string[]): CorsVerdict {
  const origin = request.headers.origin?.trim().toLowerCase();
  const vary = { vary: 'origin' };
  if (!origin) return { allowed: true, headers: vary };
  if (cleanOrigins(allowedOrigins).includes(origin)) {
    return { allowed: true, headers: { 'access-control-allow-origin': request.headers.origin!.trim(), 'access-control-expose-headers': 'retry-after', ...vary } };
  }
  return { allowed: origin === request.url.origin.toLowerCase(), headers: vary };
}

/** `response` with the CORS headers for `request` (a `vary` already there is kept). */
export function withCors(request: HttpRequest, response: HttpResponse, allowedOrigins: readonly string[]): HttpResponse {
  const { headers } = cors(request, allowedOrigins);
  const vary = response.headers?.vary ? `${response.headers.vary}, origin` : 'origin';
  // A visitor's transcripts and sessions: never kept by a cache, never read as another type (unless the answer says otherwise).
  return { ...response, headers: { ...PRIVATE_ANSWER, ...response.headers, ...headers, vary } };
}

const PRIVATE_ANSWER = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

/** 400 malformed_body / invalid_payload, 413, 415: what "Malformed payloads" in the README counts. */
const BODY_REFUSALS = new Set([400, 413, 415]);

/**
 * A route whose answers, refusals included, carry CORS headers: a browser on an allowed origin
 * can then read the error (a 404, a 429's Retry-After) instead of seeing a network failure.
 */
export function corsRoute(route: Route, allowedOrigins: () => readonly string[]): Route {
  return {
    ...route,
    async handle(request) {
      let response: HttpResponse;
      try {
        refuseCrossSite(request, allowedOrigins());
        response = await route.handle(request);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        // A body refused (malformed, invalid, too large, of another type) is the HTTP layer's to log
        // at warn and count, as on POST /web/messages: decorateRefusal gives it these headers too.
        if (BODY_REFUSALS.has(error.status)) throw error;
        response = jsonError(error.status, error.reason, error.message);
      }
      return withCors(request, response, allowedOrigins());
    },
  };
}

/**
 * Another site's form or script (the browser says `Sec-Fetch-Site: cross-site`) from an origin not in
 * WEB_ALLOWED_ORIGINS changes nothing: such a POST /web/sessions would start a new visitor and
 * replace the visitor's cookie (its own, SameSite=Lax, is not sent), losing them their chat.
 */
function refuseCrossSite(request: HttpRequest, allowedOrigins: readonly string[]): void {
  if (request.method !== 'POST' && request.method !== 'DELETE') return;
  if (request.headers['sec-fetch-site'] !== 'cross-site' || (request.headers.origin && cors(request, allowedOrigins).allowed)) return;
  throw new HttpError(403, 'cross_site', 'The chat API takes changes from its own pages and the sites in WEB_ALLOWED_ORIGINS only.');
}

/**
 * The webhook (POST /web/messages) with CORS on its answer. A refusal it throws is answered by the
 * HTTP layer (logged and counted like any other), which gives it the headers through the
 * adapter's `decorateRefusal` (`withCors`).
 */
export async function corsReceive(request: HttpRequest, receive: (request: HttpRequest) => Promise<Received>, allowedOrigins: readonly string[]): Promise<Received> {
  const received = await receive(request);
  const { overLimit } = received;
  const cors = overLimit ? { overLimit: (refusal: LimitRefusal) => withCors(request, overLimit(refusal), allowedOrigins) } : {};
  return { ...received, response: withCors(request, received.response, allowedOrigins), ...cors };
}

/** The answer to a CORS preflight: 204 with what may be sent for an allowed origin, 403 for any other. */
export function preflight(request: HttpRequest, allowedOrigins: readonly string[]): HttpResponse {
  // No Origin: not a browser's preflight (curl, a probe), so "this origin may not" would name none.
  if (!request.headers.origin?.trim()) {
    return jsonError(400, 'not_a_preflight', 'OPTIONS here answers CORS preflights, which carry an Origin header (and Access-Control-Request-Method); this request has no Origin.', { vary: 'origin' });
  }
  const verdict = cors(request, allowedOrigins);
  if (!verdict.headers['access-control-allow-origin']) {
    return jsonError(403, 'origin_not_allowed', 'This origin may not call the web chat API: add it to WEB_ALLOWED_ORIGINS.', { vary: 'origin' });
  }
  return {
    status: 204,
    headers: {
      ...verdict.headers,
      'access-control-allow-methods': CORS_METHODS,
      'access-control-allow-headers': CORS_HEADERS,
      'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
    },
  };
}

interface Loaded {
  body: Buffer;
  etag: string;
}

/**
 * Whether an If-None-Match list names this ETag. Split on commas and trimmed, linear in the header's
 * length (a split on the pattern `\s*,\s*` backtracked over every run of spaces: quadratic on a
 * hostile header).
 */
function matchesEtag(header: string | undefined, etag: string): boolean {
  return header !== undefined && header.split(',').some((tag) => tag.trim() === etag);
}

/** The chat page, the frame, their assets and the widget, with CORS preflights for the API. */
export function embedRoutes(options: EmbedOptions): Route[] {
  // Each file is read once; a route awaits it too, since requests are served before start() has finished.
  const cache = new Map<FileName, Promise<Loaded>>();
  const load = (name: FileName): Promise<Loaded> => {
    let loaded = cache.get(name);
    if (!loaded) {
      loaded = readFile(new URL(FILES[name].file, import.meta.url)).then((body) => ({ body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }));
      // A failed read is retried on the next request, not remembered.
      loaded.catch(() => cache.delete(name));
      cache.set(name, loaded);
    }
    return loaded;
  };

  /** A file with its ETag; a matching If-None-Match gets a 304. */
  async function serve(request: HttpRequest, name: FileName, headers: Record<string, string>): Promise<HttpResponse> {
    const { body, etag } = await load(name);
    const all = { 'content-type': FILES[name].type, 'x-content-type-options': 'nosniff', etag, ...headers };
    if (matchesEtag(request.headers['if-none-match'], etag)) return { status: 304, headers: all };
    return { status: 200, headers: all, body };
  }

  const frameAncestors = () => ["'self'", ...cleanOrigins(options.allowedOrigins())].join(' ');

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/web/frame',
      handle: (request) => serve(request, 'frame', pageHeaders(frameAncestors())),
    },
    {
      method: 'GET',
      path: '/web/widget.js',
      // Loaded by any website's page: public, cross-origin, cacheable for a few minutes.
      handle: (request) =>
        serve(request, 'widget', {
          'cache-control': `public, max-age=${WIDGET_MAX_AGE_S}`,
          'cross-origin-resource-policy': 'cross-origin',
          'access-control-allow-origin': '*',
        }),
    },
    {
      method: 'GET',
      path: '/web/assets/',
      handle(request) {
        const name = pathOf(request).slice('/web/assets/'.length) as FileName;
        if (!ASSETS.includes(name)) return Promise.resolve(jsonError(404, 'not_found', `Nothing is served at ${request.url.pathname}.`, { 'x-content-type-options': 'nosniff' }));
        return serve(request, name, { 'cache-control': 'no-cache', 'cross-origin-resource-policy': 'same-origin' });
      },
    },
    ...API_PATHS.map((path): Route => ({ method: 'OPTIONS', path, handle: async (request) => preflight(request, options.allowedOrigins()) })),
  ];
  if (options.page === true) {
    routes.unshift({
      method: 'GET',
      path: '/',
      handle: (request) =>
        request.url.pathname.endsWith('/') ? serve(request, 'page', { ...pageHeaders("'none'"), 'x-frame-options': 'DENY' }) : Promise.resolve(toSlash(request)),
    });
  }
  return routes;
}

/**
 * The page's links are relative (`web/assets/chat.css`): they work below any mount prefix, but only
 * from `/bot/`; from `/bot` a browser looks for `/web/assets/…`. So `/bot` redirects to `/bot/`,
 * as static file servers do, keeping the query.
 */
function toSlash(request: HttpRequest): HttpResponse {
  const path = `${request.url.pathname}/`.replace(/^\/+/, '/'); // never `//host`: a path on this server
  return { status: 308, headers: { location: `${path}${request.url.search}`, 'cache-control': 'no-cache' } };
}

/** Read every file now, so a missing one (a broken build) fails the adapter's start, not a visitor. */
export async function loadEmbedFiles(): Promise<void> {
  await Promise.all(Object.values(FILES).map(({ file }) => readFile(new URL(file, import.meta.url))));
}

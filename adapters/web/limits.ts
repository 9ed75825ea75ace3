/**
 * The web chat's abuse limits: requests per address and per visitor on every route, visitor
 * sessions started per address, and concurrent event streams per visitor and per address.
 *
 * They are for the public: visitors, and requests without a valid credential. The operator's
 * WEB_TOKEN (server to server, often one address for many users) and the no-setup chat on
 * loopback (`local`: no credential, from this machine) are not limited.
 *
 * A refusal is an answer, not an error: HttpError carries no headers, and a 429 must say when to
 * come back (Retry-After). So the checks return the 429 to send, or undefined to go on:
 *
 *     const refused = await limits.checkRequest(request, caller);
 *     if (refused) return refused;
 *
 * In `receive` (POST /web/messages) the refusal goes back as `{ response: refused, messages: [] }`:
 * nothing is queued and nothing is written to the transcript.
 */
import { addressKey, clientAddress, jsonError, trustsProxy, type AdapterContext, type HttpRequest, type HttpResponse, type Limiter, type Route, type TrustProxy } from 'parley/adapter-kit';

// Counted the way the console's sign-in throttle counts them; re-exported for the adapter's tests.
export { addressKey, clientAddress };

export interface WebLimitOptions {
  /** Requests per address, and per visitor, per minute on every web route (0 = no limit). */
  requestsPerIpPerMinute?: number | undefined;
  /** Visitor sessions one address may start per minute (0 = no limit). */
  sessionsPerIpPerMinute?: number | undefined;
  /** Take the client's address from X-Forwarded-For: `true` the left-most entry, a number that many proxies in front (TRUST_PROXY). */
  trustProxy?: TrustProxy | undefined;
  /** Concurrent event streams per visitor in this process (default 3). */
  streamsPerVisitor?: number | undefined;
  /** Concurrent event streams per address in this process (default 10). */
  streamsPerAddress?: number | undefined;
}

/** An event stream let through: call `release` when it ends (or wrap it with `releasing`). */
export type StreamAdmission = { allowed: true; release(): void } | { allowed: false; response: HttpResponse };

/**
 * Who is asking, as far as the limits care (access.ts's Caller is one): undefined when the request
 * proves nothing (no credential, or a bad one). Only a verified visitor has a budget of its own.
 */
export type Asker = { kind: 'operator' } | { kind: 'local' } | { kind: 'visitor'; visitor: string } | undefined;

/** Who asks `request`, never throwing (a bad credential is the route's to refuse, and counts per address). */
export type AskerOf = (request: HttpRequest) => Asker | Promise<Asker>;

/** The `limit` label of each web limit's refusals in parley_rate_limited_total (README, Observability). */
export type WebLimitName = 'ip_requests' | 'visitor_requests' | 'ip_sessions' | 'ip_streams' | 'visitor_streams';

/** The operator and the no-setup local chat are not limited. */
const exempt = (asker: Asker) => asker?.kind === 'operator' || asker?.kind === 'local';

const STREAMS_PER_VISITOR = 3;
const STREAMS_PER_ADDRESS = 10;

/** The limits for one web chat adapter, built when it starts. */
export class WebLimits {
  private readonly perAddress: Limiter | undefined;
  private readonly perVisitor: Limiter | undefined;
  private readonly sessions: Limiter | undefined;
  private readonly trustProxy: TrustProxy;
  private readonly streamsPerVisitor: number;
  private readonly streamsPerAddress: number;
  /** Open event streams in this process, by visitor and by address key. */
  private readonly openByVisitor = new Map<string, number>();
  private readonly openByAddress = new Map<string, number>();
  private readonly logger: AdapterContext['logger'] | undefined;
  /** Counts each refusal in parley_rate_limited_total{platform="web", limit}: the console's "Rate-limited" reads it. */
  private readonly countRefusal: (limit: WebLimitName) => void;
  private warnedUnknown = false;
  /** Requests counted already (checkRequest), so that their refusal is not counted again. */
  private readonly counted = new WeakSet<HttpRequest>();

  constructor(context: Pick<AdapterContext, 'limiter' | 'config'> & Partial<Pick<AdapterContext, 'logger' | 'rateLimited'>>, options: WebLimitOptions = {}) {
    this.logger = context.logger;
    this.countRefusal = (limit) => context.rateLimited?.(limit);
    const web = context.config.web;
    const requests = options.requestsPerIpPerMinute ?? web.requestsPerIpPerMinute;
    this.perAddress = context.limiter('requests-ip', requests);
    this.perVisitor = context.limiter('requests-visitor', requests);
    this.sessions = context.limiter('sessions-ip', options.sessionsPerIpPerMinute ?? web.sessionsPerIpPerMinute);
    this.trustProxy = options.trustProxy ?? context.config.trustProxy;
    this.streamsPerVisitor = options.streamsPerVisitor ?? STREAMS_PER_VISITOR;
    this.streamsPerAddress = options.streamsPerAddress ?? STREAMS_PER_ADDRESS;
  }

  /** The client's address as these limits see it. */
  address(request: HttpRequest): string {
    const address = clientAddress(request, this.trustProxy);
    // bot.fetch(request) with no remoteAddress (Vercel, Next.js, Deno, Bun): every visitor would
    // share one budget, and nothing else would say so.
    if (address === 'unknown' && !this.warnedUnknown) {
      this.warnedUnknown = true;
      this.logger?.warn(
        trustsProxy(this.trustProxy)
          ? 'web chat: a request came with neither a client address nor X-Forwarded-For, so the per-address limits count it with every other such request; pass { remoteAddress } to bot.fetch, or have the proxy in front set X-Forwarded-For'
          : 'web chat: a request came without a client address (bot.fetch without { remoteAddress }?), so every visitor shares one per-address budget; behind a platform proxy that sets X-Forwarded-For (Vercel, Netlify, Cloudflare), set TRUST_PROXY=true',
      );
    }
    return address;
  }

  /**
   * Count one request against its address and, when a verified visitor asks, against that
   * visitor. Returns the 429 to answer when either is over, else undefined.
   */
  async checkRequest(request: HttpRequest, asker?: Asker): Promise<HttpResponse | undefined> {
    this.counted.add(request);
    if (exempt(asker)) return undefined;
    const visitor = asker?.kind === 'visitor' ? asker.visitor : undefined;
    const address = addressKey(this.address(request));
    const byAddress = await this.perAddress?.consume(address);
    if (byAddress && !byAddress.allowed) return this.refuse('ip_requests', rateLimited(byAddress.retryAfterMs, 'Too many requests from this address'));
    const byVisitor = visitor === undefined ? undefined : await this.perVisitor?.consume(visitor);
    if (byVisitor && !byVisitor.allowed) return this.refuse('visitor_requests', rateLimited(byVisitor.retryAfterMs, 'Too many requests from this visitor'));
    return undefined;
  }

  /**
   * A request the HTTP layer refused before the adapter read it (a wrong content type or method, a
   * body over BODY_LIMIT_BYTES) counts against its address too, or one address could send such
   * requests without end: the 429 to answer instead when it is over, else undefined.
   */
  async checkRefused(request: HttpRequest): Promise<HttpResponse | undefined> {
    return this.counted.has(request) ? undefined : this.checkRequest(request);
  }

  /** Count one new (or renewed) visitor session against its address (POST /web/sessions). */
  async checkNewSession(request: HttpRequest, asker?: Asker): Promise<HttpResponse | undefined> {
    if (exempt(asker)) return undefined;
    const result = await this.sessions?.consume(addressKey(this.address(request)));
    if (result && !result.allowed) return this.refuse('ip_sessions', rateLimited(result.retryAfterMs, 'Too many new chat sessions from this address'));
    return undefined;
  }

  /**
   * Take a slot for one event stream of `address` (and `visitor`), or get the 429 to answer when
   * either already has its most open in this process. The slot is released once, however often
   * `release` is called.
   */
  openStream(address: string, visitor?: string): StreamAdmission {
    const key = addressKey(address);
    if ((this.openByAddress.get(key) ?? 0) >= this.streamsPerAddress) {
      return { allowed: false, response: this.refuse('ip_streams', tooManyStreams(`this address has ${this.streamsPerAddress} open already`)) };
    }
    if (visitor !== undefined && (this.openByVisitor.get(visitor) ?? 0) >= this.streamsPerVisitor) {
      return { allowed: false, response: this.refuse('visitor_streams', tooManyStreams(`this visitor has ${this.streamsPerVisitor} open already`)) };
    }
    increment(this.openByAddress, key);
    if (visitor !== undefined) increment(this.openByVisitor, visitor);
    let released = false;
    return {
      allowed: true,
      release: () => {
        if (released) return;
        released = true;
        decrement(this.openByAddress, key);
        if (visitor !== undefined) decrement(this.openByVisitor, visitor);
      },
    };
  }

  /**
   * The event stream `response` of `asker`, holding a slot until it ends (or its client goes),
   * or the 429 when the visitor or the address has too many open.
   */
  boundStream(request: HttpRequest, asker: Asker, response: HttpResponse & { stream: AsyncIterable<string> }): HttpResponse {
    if (exempt(asker)) return response;
    const slot = this.openStream(this.address(request), asker?.kind === 'visitor' ? asker.visitor : undefined);
    return slot.allowed ? { ...response, stream: releasing(response.stream, slot.release) } : slot.response;
  }

  /** How many event streams are open in this process (all, or for one address key or visitor). */
  openStreams(of?: { address?: string; visitor?: string }): number {
    if (of?.visitor !== undefined) return this.openByVisitor.get(of.visitor) ?? 0;
    if (of?.address !== undefined) return this.openByAddress.get(addressKey(of.address)) ?? 0;
    let total = 0;
    for (const count of this.openByAddress.values()) total += count;
    return total;
  }

  /** `response`, a refusal by the limit named `limit`, counted first: a flood shows in /metrics and the console. */
  private refuse(limit: WebLimitName, response: HttpResponse): HttpResponse {
    this.countRefusal(limit);
    return response;
  }

  /** `route` with the request limit checked first. */
  limited(route: Route, askerOf?: AskerOf): Route {
    return limitedRoute(route, async (request) => this.checkRequest(request, await askerOf?.(request)));
  }
}

/**
 * `route` answered by `check` first when it refuses (a 429), else by the route: for routes built
 * before the limits exist (an adapter's routes, before start()), `check` finds them per request.
 */
export function limitedRoute(route: Route, check: (request: HttpRequest) => Promise<HttpResponse | undefined>): Route {
  return { method: route.method, path: route.path, handle: async (request) => (await check(request)) ?? route.handle(request) };
}

/**
 * `stream` that calls `release` when it ends: finished, failed, or closed by the client. A closed
 * stream is released at once, not when the generator next yields (an idle SSE generator may not
 * yield for seconds), and also when it was closed before its first chunk.
 */
export function releasing<T>(stream: AsyncIterable<T>, release: () => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const inner = stream[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            const next = await inner.next();
            if (next.done) release();
            return next;
          } catch (error) {
            release();
            throw error;
          }
        },
        async return(value?: unknown) {
          release();
          // Not awaited: an async generator handles return() only at its next yield.
          inner.return?.(value).catch(() => undefined);
          return { done: true, value: value as T };
        },
        async throw(error?: unknown) {
          release();
          if (inner.throw) return inner.throw(error);
          throw error;
        },
      };
    },
  };
}

/** A 429 with Retry-After (whole seconds), as every web limit answers. */
export function rateLimited(retryAfterMs: number, what: string): HttpResponse {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return jsonError(429, 'rate_limited', `${what}: retry in ${seconds} s.`, { 'retry-after': String(seconds) });
}

/** A stream slot frees when a tab closes: worth a look again soon. */
const STREAM_RETRY_AFTER_SECONDS = 10;

function tooManyStreams(why: string): HttpResponse {
  return jsonError(429, 'too_many_streams', `Too many open event streams: ${why}. Close one (another tab or window) and retry.`, { 'retry-after': String(STREAM_RETRY_AFTER_SECONDS) });
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}

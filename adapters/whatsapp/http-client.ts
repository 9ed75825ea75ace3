/**
 * The HTTP client the twilio SDK sends through. It points every *.twilio.com request at
 * TWILIO_API_URL (a proxy, or a local fake in tests), keeps the SDK's own 429 retries off so the
 * queue decides when to try again, and makes sure no error it throws carries the credentials
 * (an axios error holds the request's Authorization header). A send that went out whole and then
 * got no answer (a timeout, a cut connection) may have been taken: it fails with MaybePostedError,
 * so the core looks for the message (findPart) before sending it again. A request that never went
 * out (Twilio could not be reached) is a wait (RetryAfterError): nothing was sent, no attempt spent.
 * So is an answered 5xx (Twilio down for now); a send a gateway answered 502 or 504 is looked for first.
 */
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type TwilioResponse from 'twilio/lib/http/response.js';
import { MAX_ANSWER_BYTES, MaybePostedError, PermanentError, RetryAfterError, isPlatformDown, notSentCode, platformDown, platformUnreachable, redirectOrigin, retryAfterMs as readRetryAfter, unreadableBody } from 'parley/adapter-kit';
import { twilioSdk } from './sdk.js';

/** How long to wait after a 429 that does not say (Twilio's usually do not). */
export const DEFAULT_RETRY_AFTER_MS = 5000;
const DEFAULT_API_URL = 'https://api.twilio.com';
/** A send that hangs holds a worker; Twilio answers in well under a second. */
const REQUEST_TIMEOUT_MS = 15_000;

export interface TwilioHttpClientOptions {
  /** How long a request may take before it is given up (default 15 s). */
  timeoutMs?: number;
}

type Response<T> = TwilioResponse.default<T>;

/** The client to pass as the twilio SDK's `httpClient`, sending to `apiUrl` (TWILIO_API_URL). */
export function createTwilioHttpClient(apiUrl: string = DEFAULT_API_URL, options: TwilioHttpClientOptions = {}): RequestClient {
  ClientClass ??= defineTwilioHttpClient(twilioSdk('createTwilioHttpClient()').RequestClient);
  return new ClientClass(apiUrl, options.timeoutMs ?? REQUEST_TIMEOUT_MS);
}

/**
 * @deprecated The name this had before createTwilioHttpClient (0.1 exported it):
 * `new TwilioHttpClient(apiUrl)` still gives the same client.
 */
export const TwilioHttpClient = function TwilioHttpClient(apiUrl?: string) {
  return createTwilioHttpClient(apiUrl);
} as unknown as new (apiUrl?: string) => RequestClient;

// Defined on first use: its base class comes from the optional twilio SDK.
let ClientClass: ReturnType<typeof defineTwilioHttpClient> | undefined;

function defineTwilioHttpClient(Base: typeof RequestClient) {
  return class TwilioHttpClient extends Base {
    private readonly base?: URL;

    constructor(apiUrl: string, timeoutMs: number) {
      super({ autoRetry: false, timeout: timeoutMs });
      // Twilio's answers are kilobytes; one without end (a proxy's download) would take the process's memory.
      this.axios.defaults.maxContentLength = MAX_ANSWER_BYTES;
      const base = new URL(apiUrl);
      if (base.origin !== DEFAULT_API_URL || base.pathname !== '/') this.base = base;
    }

    override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
      const uri = this.rewrite(opts.uri);
      let response: Response<TData>;
      try {
        response = await super.request({ ...opts, uri });
      } catch (error) {
        // No `cause`: the axios error holds the Authorization header.
        if (opts.method.toUpperCase() === 'POST' && maybeTaken(error)) throw new MaybePostedError(`the Twilio API did not answer at ${new URL(uri).origin}: ${describe(error)}`);
        // Nothing was sent (refused, unknown host, no connection in time): the job waits for Twilio without spending an attempt.
        const notSent = notSentCode(error) ?? (connectTimeout(error) ? 'connect timeout' : undefined);
        if (notSent) throw platformUnreachable(`the Twilio API at ${new URL(uri).origin}`, notSent);
        throw new Error(`the Twilio API could not be reached at ${new URL(uri).origin}: ${describe(error)}`);
      }
      if (response.statusCode === 429) {
        throw new RetryAfterError('Twilio answered 429 Too Many Requests', retryAfterMs(response.headers as Record<string, unknown> | undefined));
      }
      const origin = new URL(uri).origin;
      // Twilio down for now: a wait, no attempt spent (as its Retry-After says, if it says); a send a gateway answered 502 or 504 is looked for first.
      if (isPlatformDown(response.statusCode)) {
        const retryAfter = readRetryAfter(response.headers as Record<string, unknown> | undefined);
        throw platformDown(`the Twilio API at ${origin}`, response.statusCode, { posting: opts.method.toUpperCase() === 'POST', ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }) });
      }
      // Never followed (the SDK's default): the same redirect would meet every retry.
      if (response.statusCode >= 300 && response.statusCode < 400) {
        const where = redirectOrigin((response.headers as Record<string, unknown> | undefined)?.location, uri);
        throw new PermanentError(`the Twilio API at ${origin} answered ${response.statusCode} redirecting to ${where}; redirects are not followed. Fix: set TWILIO_API_URL to the API's own address`, 'twilio_redirect');
      }
      // A 2xx that is not Twilio's JSON (a proxy's page): a send may have been taken all the same, so it is looked for first.
      // A 204 has no body: Twilio's answer to a delete (the client is public: a developer's own calls).
      const unreadable = response.statusCode >= 200 && response.statusCode < 300 && response.statusCode !== 204 ? notJson(response.body) : undefined;
      if (unreadable) {
        const what = `the Twilio API at ${origin} answered ${response.statusCode} with ${unreadable}`;
        throw opts.method.toUpperCase() === 'POST' ? new MaybePostedError(`${what}; it may have taken the message`) : new Error(what);
      }
      return response;
    }

    /** https://api.twilio.com/2010-04-01/… → <TWILIO_API_URL>/2010-04-01/…, for any *.twilio.com host. */
    private rewrite(uri: string): string {
      if (!this.base) return uri;
      const url = new URL(uri);
      if (url.hostname !== 'twilio.com' && !url.hostname.endsWith('.twilio.com')) return uri;
      const prefix = this.base.pathname.replace(/\/$/, '');
      return `${this.base.origin}${prefix}${url.pathname}${url.search}`;
    }
  };
}

/** The least a 429 waits: a date already past by our clock (Twilio's behind it) or a 0 would retry at once, again and again. */
const MIN_RETRY_AFTER_MS = 1000;

/** Retry-After in seconds or as an HTTP date, at least a second; a few seconds when absent or unreadable. */
export function retryAfterMs(headers: Record<string, unknown> | undefined, now = Date.now()): number {
  return Math.max(readRetryAfter(headers, { now }) ?? DEFAULT_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS);
}

/**
 * A request that went out whole (every byte handed to the connection) and then got no answer: a
 * timeout, a cut connection, an answer past MAX_ANSWER_BYTES. A refused connection, or a timeout
 * while connecting, never sent it.
 */
function maybeTaken(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; request?: { writableFinished?: boolean } };
  if (e?.request?.writableFinished === false) return false;
  return /ECONNABORTED|ETIMEDOUT|ECONNRESET|EPIPE|socket hang up|aborted|timeout|maxContentLength/i.test(`${String(e?.code ?? '')} ${String(e?.message ?? '')}`);
}

/** A timeout before the request was written: no connection was made in time. */
function connectTimeout(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; request?: { writableFinished?: boolean } };
  return e?.request?.writableFinished === false && /ECONNABORTED|ETIMEDOUT|timeout/i.test(`${String(e?.code ?? '')} ${String(e?.message ?? '')}`);
}

/** An error's code and message only: never its request config. */
function describe(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  return code && !message.includes(code) ? `${code} ${message}` : message;
}

/** What a 2xx body is when it is not a JSON object (without its text: it is logged), or undefined when it is one. */
function notJson(body: unknown): string | undefined {
  if (typeof body !== 'string') return body !== null && typeof body === 'object' ? undefined : 'an empty body';
  if (body.trim() === '') return 'an empty body';
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object') return undefined;
  } catch {
    return unreadableBody(body);
  }
  return 'JSON that is not an object';
}

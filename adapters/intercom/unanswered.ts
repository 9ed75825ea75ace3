/**
 * What became of a failed call's request. One that went out and got no answer (the client's
 * timeout, a connection cut after sending) may have been taken: for a reply that is
 * MaybePostedError, so the core looks for the part (findPart) before posting it again. One that
 * never went out (a refused connection, an unknown host) sent nothing: Intercom could not be
 * reached, a wait (RetryAfterError) that spends no attempt. An answered 4xx/5xx is neither.
 *
 * intercom-client reports every connection failure as "fetch failed" and a timeout as `"timeout"`,
 * keeping nothing of the cause: the fetch parley gives it notes, for the call under way, what
 * happened to the request. That fetch also gives the SDK's timeout to the whole answer (the SDK
 * stops timing once the headers are in, so a body that stalled held the call for undici's 5
 * minutes), and never follows a redirect: fetch would send the reply's text to wherever it points,
 * and its answer there would pass for Intercom's.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { MAX_ANSWER_BYTES, MaybePostedError, PermanentError, notSentCode, platformUnreachable, redirectOrigin } from 'parley/adapter-kit';

/** What the fetch saw of the watched call's request: why it got no answer, if it went out; how it failed, if it never did. */
interface Watch {
  unanswered?: string;
  notSent?: string;
  /** A 3xx: what it said, naming where it pointed (never followed). */
  redirected?: string;
}

const watches = new AsyncLocalStorage<Watch>();

/** Failures after the request was handed to the connection: it may have reached Intercom. */
const AFTER_SENDING = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * The fetch for intercom-client: `base` (the global fetch, as at each call), noting for a watched
 * call a request that got no answer; the answer read whole within `timeoutMs`; a redirect refused.
 */
export function fetchNotingUnanswered(base?: typeof fetch, timeoutMs?: number): typeof fetch {
  return async (input, init) => {
    const deadline = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    const signal = deadline && init?.signal ? AbortSignal.any([init.signal, deadline]) : (deadline ?? init?.signal ?? undefined);
    try {
      const response = await (base ?? globalThis.fetch)(input, { ...init, redirect: 'manual', ...(signal ? { signal } : {}) });
      if (response.status >= 300 && response.status < 400) throw redirectRefused(response);
      // Read here, under the deadline: the SDK reads it after its own timer has stopped.
      // A status that has no body gets none: Response refuses one (a TypeError, and the reply posted again without looking).
      const body = NULL_BODY_STATUSES.has(response.status) ? null : await readBounded(response);
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } catch (error) {
      const watch = watches.getStore();
      if (watch && error instanceof RedirectRefused) watch.redirected = error.message;
      else if (watch) {
        watch.unanswered = unansweredReason(error, signal);
        watch.notSent = watch.unanswered === undefined ? notSentCode(error) : undefined;
      }
      throw error;
    }
  };
}

class RedirectRefused extends Error {}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

const TOO_LARGE = `its answer was larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MB`;

async function readBounded(response: Response): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      // Leaving the loop cancels the rest of the answer.
      if (size > MAX_ANSWER_BYTES) throw Object.assign(new Error(`${TOO_LARGE}; not read further`), { tooLarge: true });
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks);
}

/** A 3xx, told with where it points (its origin only: a path may hold anything). */
function redirectRefused(response: Response): RedirectRefused {
  const target = redirectOrigin(response.headers.get('location'), response.url || undefined);
  return new RedirectRefused(`the Intercom API answered ${response.status} redirecting to ${target}; redirects are not followed (the call would go to another address)`);
}

/**
 * Run one call; a failure whose request never went out is thrown as the wait for Intercom to be
 * reachable again. With a client of the app's own (no noting fetch) nothing tells: thrown as it is.
 */
export async function waitWhenUnreachable<T>(call: () => Promise<T>): Promise<T> {
  return watched(call, false);
}

/**
 * Run one posting call; a failure whose request went out unanswered is thrown as MaybePostedError
 * (`what` names it), one whose request never went out as the wait (waitWhenUnreachable). With a
 * client of the app's own (no noting fetch) only the SDK's timeout can tell: it counts.
 */
export async function maybePostedWhenUnanswered<T>(what: string, call: () => Promise<T>): Promise<T> {
  return watched(call, true, what);
}

async function watched<T>(call: () => Promise<T>, posting: boolean, what = 'the call'): Promise<T> {
  const watch: Watch = {};
  try {
    return await watches.run(watch, call);
  } catch (error) {
    // Trying again meets the same redirect: INTERCOM_API_URL (or a proxy) points the wrong way.
    if (watch.redirected !== undefined) throw new PermanentError(`${watch.redirected}. Fix: set INTERCOM_API_URL to the API's own address`, 'intercom_redirect');
    if (watch.notSent !== undefined) throw platformUnreachable('the Intercom API', watch.notSent);
    const unanswered = watch.unanswered ?? (sdkTimeout(error) ? 'the request timed out' : undefined);
    if (!posting || unanswered === undefined) throw error;
    throw new MaybePostedError(`Intercom did not answer ${what} (${unanswered}); it may have taken it`, { cause: error });
  }
}

/** Why a request got no answer after it went out, or undefined when it never went out. */
function unansweredReason(error: unknown, signal: AbortSignal | undefined): string | undefined {
  // The SDK's timeout (or the caller's abort): the request may be with Intercom already.
  if (signal?.aborted) return 'the request timed out';
  if ((error as { tooLarge?: unknown } | undefined)?.tooLarge === true) return TOO_LARGE;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code === undefined || !AFTER_SENDING.has(code)) return undefined;
  return `the connection was lost: ${code}${typeof cause?.message === 'string' ? ` ${cause.message}` : ''}`;
}

/** intercom-client's timeout: IntercomTimeoutError, or (through Node's fetch) an IntercomError whose message is `"timeout"`. */
function sdkTimeout(error: unknown): boolean {
  const e = error as { constructor?: { name?: unknown }; statusCode?: unknown; message?: unknown } | undefined;
  if (e?.statusCode !== undefined) return false;
  return e?.constructor?.name === 'IntercomTimeoutError' || e?.message === '"timeout"';
}

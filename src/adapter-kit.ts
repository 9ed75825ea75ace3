/**
 * `parley/adapter-kit`: everything an adapter author needs, and nothing of the core's insides.
 * An adapter verifies and parses webhooks (`receive`), declares how long a reply part may be and
 * how markdown reads on its platform (`maxChars`, `format`), and posts one part (`sendPart`); the
 * core splits replies, posts each part once, waits out short Retry-Afters and queues the rest.
 * The adapters in parley's own adapters/ folder import only this (and app-level things from the
 * root entry).
 */

// The contract.
export type {
  Adapter,
  AdapterContext,
  Feedback,
  HttpRequest,
  HttpResponse,
  Indicator,
  LimitRefusal,
  Outcome,
  Received,
  ReplyPart,
  Route,
  SendOptions,
  StreamDelivery,
} from './adapter.js';
export type { Attachment, ConversationRef, Delivery, InboundMessage, Reply } from './message.js';
export type { Store } from './store/index.js';
export type { Limiter, LimitResult } from './limit/index.js';
export type { Config } from './config.js';

// Errors that tell the HTTP layer and the queue what to do.
export { HttpError, MaybePostedError, PermanentError, RetryAfterError, mediaTypeOf, pathOf, publicPathOf } from './adapter.js';
export { InvalidPayloadError, checkPayload, type InvalidPayloadStatus, type PayloadSchema, type PayloadIssue } from './payload.js';

// Feedback on answers: the exchange a reply's key belongs to, and the limits of a reason.
export { exchangeOf, MAX_REASON_CHARS } from './feedback.js';

// Replies: splitting, and markdown → a platform's own formatting.
export { replyParts } from './replies.js';
// splitMessage, renderMarkdown, renderInline, emphasis, fences, rules, headings and their types.
export * from './text/index.js';

// Rate limits: reading Retry-After, and the bounded wait in place.
export { parseRetryAfter, retryAfterMs, waitOutRetryAfter, MAX_INLINE_WAIT_MS, type HeaderSource, type InlineWaitOptions, type RetryAfterOptions } from './retry-after.js';
// A platform that could not be reached (nothing sent), or that answered a 5xx (down for now): a wait of PLATFORM_UNREACHABLE_WAIT_MS and more, not a failure.
export { PLATFORM_UNREACHABLE_WAIT_MS, isPlatformDown, notSentCode, platformDown, platformUnreachable, type PlatformDownOptions } from './platform-unreachable.js';
// A failed post that may have been taken (a MaybePostedError, or a wait that says so): looked for before it is posted again.
export { mayHaveBeenPosted } from './errors.js';

// Signatures and HTTP answers.
export { hmac, hmacMatches, safeEqual, sameSecret } from './signature.js';
export { json, jsonError, isLoopbackHost, readCookie, readCookies, escapeHtml } from './http/index.js';
// The client's address as parley's limits count it (TRUST_PROXY: true, the left-most X-Forwarded-For; N, N proxies in front).
export { addressKey, clientAddress, trustsProxy, type TrustProxy } from './http/client-address.js';
// The fetch to give a platform SDK for its small JSON calls (half the CPU of the global fetch).
export { leanFetch, MAX_ANSWER_BYTES } from './http/lean-fetch.js';

// A third party's error text may quote a configured secret: hide them before it is logged or stored.
export { hideSecrets, hideSecretsIn, rememberBasicCredentials, rememberSecrets } from './secret-values.js';
export { frozenOnceAnswered } from './frozen.js';
// A URL's user and password: as an Authorization header, and never in a log line.
export { hideUrl, hideUrlCredentials, shownOrigin, splitCredentials, type SplitUrl } from './http/credentials.js';
// An answer that is not what was asked for (a proxy's page), and a redirect not followed, as logs tell them.
export { redirectOrigin, unreadableBody } from './http/unreadable.js';

// A line a flood would write once per event (an event not taken while Redis is down): the first of a kind a minute, then a count;
// a failure's kind told by errorText (its name and text, not its stack).
export { leftOutFields, logSummaryOf } from './observe/log-summary.js';
export { errorText } from './queue/backoff.js';
// A delivery the platform never sends again (Received.lastDelivery) that an adapter could not read: named as the core names one not taken.
export { logLostDelivery } from './http/refusals.js';

// Optional SDKs: an adapter loads its platform SDK when it is created, not when it is imported.
export { requireInstalled, requireOptional } from './optional-dependency.js';
export { MissingDependencyError } from './errors.js';
// An AI stream's failure when none of its text reached the user: retryable again (see Adapter.stream).
export { nothingShown } from './ai/errors.js';
// An AI stream read whole with none of it shown (an adapter that cannot stream here): its failure is nothingShown's.
export { collectShowingNothing } from './ai/collect.js';
// An AI stream's failure after its text showed, when the adapter takes that text back before the retry's answer: retryable again (see Adapter.stream).
export { shownTextTakenBack } from './ai/errors.js';
// Passing a long-lived signal's abort on to a controller (AbortSignal.any leaks on Node 20: see abort.ts).
export { forwardAbort } from './ai/abort.js';

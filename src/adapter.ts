/**
 * The contract between the core and a platform adapter. Adapters import this;
 * the core never imports an adapter.
 */
import type { Logger } from 'pino';
import type { ConversationRef, Delivery, InboundMessage, Reply } from './message.js';
import type { Store } from './store/store.js';
import type { Limiter } from './limit/limiter.js';
import type { Config } from './config.js';
import type { HttpError } from './errors.js';
import type { Outcome, Received } from './received.js';

/** An HTTP request as the core's HTTP layer hands it over: raw bytes, lower-case headers. */
export interface HttpRequest {
  method: string;
  /**
   * The full public URL, as the caller used it and as platforms sign it: rebuilt from Host (and
   * X-Forwarded-* when TRUST_PROXY is on) or PUBLIC_URL, with any mount prefix kept.
   */
  url: URL;
  /**
   * `url` as it came, before `new URL()` re-encoded its path and query (`'` → `%27`): the exact
   * string a platform signed (Twilio). Absent where only a parsed URL is known (a fetch `Request`'s).
   */
  receivedUrl?: string;
  /**
   * The path parley routes on: as mounted, without the prefix of an embedding app
   * (`app.use('/bot', bot.middleware)`) or of PUBLIC_URL's own path. Read it through `pathOf`;
   * a request built without it (a test's) routes on `url.pathname`.
   */
  path?: string;
  headers: Record<string, string | undefined>;
  /** The raw body: signatures are computed over these exact bytes. */
  body: Buffer;
  /** The client address, for logs. */
  remoteAddress?: string;
  /** Aborts when the client hangs up before the answer is written; absent where that cannot be told (Lambda). */
  signal?: AbortSignal;
}

/** The path a request routes on (see `HttpRequest.path`). */
export function pathOf(request: HttpRequest): string {
  return request.path ?? request.url.pathname;
}

/** A request's media type, lower-case and without parameters (`Application/JSON; charset=utf-8` → `application/json`); '' when absent. */
export function mediaTypeOf(request: Pick<HttpRequest, 'headers'>): string {
  // Sent twice, its first value as Node keeps it: Web `Headers` (the fetch handler, Lambda) join the two with ", ".
  return (request.headers['content-type'] ?? '').split(/[;,]/)[0]!.trim().toLowerCase();
}

/**
 * Where one of parley's paths is as the browser sees it: behind the same mount prefix as this
 * request (`/console` → `/bot/console`). For links, redirects and cookie paths.
 */
export function publicPathOf(request: HttpRequest, path: string): string {
  const routed = pathOf(request);
  const full = request.url.pathname;
  if (routed === full) return path;
  const prefix = full.endsWith(routed) ? full.slice(0, full.length - routed.length) : routed === '/' ? full.replace(/\/$/, '') : '';
  return `${prefix}${path}`;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** A stream of text chunks (server-sent events); the HTTP layer writes it as it comes. */
  stream?: AsyncIterable<string>;
  /** A stream whose client takes nothing for this long (its writes backed up) is cut: gone without closing. Default: no limit. */
  stallTimeoutMs?: number;
  /** A webhook's: what became of its message(s), for its request line only, never sent (outcome.ts); left `undefined`, the core's to fill in. */
  outcome?: Outcome;
}

// What `receive` returns (received.ts), and the errors an adapter throws (with the others), re-exported for adapters.
export type { LimitRefusal, Outcome, Received } from './received.js';
export { HttpError, MaybePostedError, PermanentError, RetryAfterError } from './errors.js';

/** Extra routes an adapter serves besides its webhook (the web chat's page and transcript). */
export interface Route {
  method: 'GET' | 'POST' | 'DELETE' | 'OPTIONS';
  /** Exact path, or a prefix ending in "/" that matches everything below it. */
  path: string;
  handle(request: HttpRequest): Promise<HttpResponse>;
}

/** What an adapter may use from the bot when it starts. Never the queue, never the AI. */
export interface AdapterContext {
  /** For the ingress side (receive): fails fast when Redis is down, so the webhook gets its 503 at once. */
  store: Store;
  /**
   * For what an adapter records while sending (which parts went out): waits out a short Redis
   * outage instead of failing, so a part posted just as Redis goes away is not posted again.
   */
  markerStore: Store;
  logger: Logger;
  /** Hand messages that arrived outside an HTTP request (Slack Socket Mode) to the pipeline: dedupe, rate limit, enqueue. Throws when they could not be taken. `lastDelivery`: as Received's (Slack's third retry), taken even once the drain has begun. */
  deliver(messages: InboundMessage[], options?: { lastDelivery?: Received['lastDelivery'] }): Promise<void>;
  /**
   * A payload that arrived outside an HTTP request (Slack Socket Mode) and was dropped: logged and
   * counted in parley_webhooks_rejected_total (by `reason`) as the router does a refused webhook.
   */
  refused(error: HttpError): void;
  /** A request refused by the adapter's own limit (the web chat's per address): counted in parley_rate_limited_total{platform, limit}. Optional for contexts built by hand. */
  rateLimited?(limit: string): void;
  /** A message dropped as one taken already under another id (Intercom: a part another notification carried): counted in parley_duplicates_dropped_total. */
  duplicateDropped?(): void;
  /**
   * A reply the platform took and later reported it could not deliver (Twilio's `failed` or
   * `undelivered` status callback), with the platform's error code: counted once per call in
   * parley_replies_undelivered_total{platform, code} (`code` bounded: past 20 codes, `other`; none given, `none`).
   * Call it once per reply and status: the platform's repeats are the adapter's to drop.
   */
  replyUndelivered?(code?: string): void;
  /** True when the HTTP server is bound to a loopback address (web chat needs no token then). */
  loopbackOnly: boolean;
  /**
   * A rate limit of `points` per `durationSeconds` (default 60) named `name`: in memory, or on
   * Redis shared by every process when REDIS_URL is set. Undefined when `points` is 0 (no limit).
   */
  limiter(name: string, points: number, durationSeconds?: number): Limiter | undefined;
  /** The bot's configuration (an adapter's own options win over it). */
  config: Config;
  /**
   * Erase what the bot remembers of a conversation: the model's history, its answers in the
   * response cache (`AiClient.forgetCached`), when the conversation
   * log can erase (`ConversationLog.erase`) its entries, and the finished queue jobs of
   * `messages` (their `InboundMessage.id`s; a job still waiting or running is left). A visitor's "delete".
   * The cached answers are found only for an adapter with `forgets: true`.
   */
  forget(conversation: ConversationRef, messages?: string[]): Promise<void>;
  /** Who the conversation log's exchanges under `conversation.id` are by (any platform's; its newest 500), each once: whose a conversation was once the adapter's own record of it has expired. */
  loggedBy?(conversation: ConversationRef): Promise<{ platform: string; user: string }[]>;
  /**
   * A person rated an answer (👍/👎, maybe with a reason): stored with its exchange in the
   * conversation log and counted in `parley_feedback_total`. False when the log holds no such
   * exchange in that conversation (nothing is stored or counted then).
   */
  feedback(feedback: Feedback): Promise<boolean>;
  /**
   * Aborted when the bot begins to close: end what the adapter holds open (a web chat's event
   * streams), so the server can close without cutting it off.
   */
  closing: AbortSignal;
}

/** A rating of one answer, as an adapter hands it to `AdapterContext.feedback`. */
export interface Feedback {
  platform: string;
  conversation: ConversationRef;
  /** The exchange rated: the job id that starts its reply's key (`exchangeOf(SendOptions.key)`). */
  exchange: string;
  rating: 'good' | 'bad';
  /** Why (a 👎's reason), in the person's words. */
  reason?: string;
  /** Who rated (the platform's user id). */
  user?: string;
}

export type Indicator = 'thinking' | 'done';

export interface SendOptions {
  /** Stable across retries of the same reply: an adapter posting a reply in several parts can remember which went out, so a retry posts only the rest. */
  key?: string;
  /** `stream` only: the platform failed (a refused stop, text left unshown) while `stream` throws the AI's failure: still a failed reply. */
  platformFailed?(error: unknown): void;
}

/** Which part of a reply `sendPart` is asked to post. */
export interface ReplyPart {
  /** The part's position (0-based) and how many parts the reply has. */
  index: number;
  total: number;
  kind: NonNullable<Reply['kind']>;
  /**
   * Stable across retries of this very part: an idempotency key for platforms that take one.
   * Absent when the reply is not tracked (an apology, an in-process answer).
   */
  key?: string;
}

/** A streamed reply as posted: its ids and text, and any text the adapter could not show. */
export interface StreamDelivery extends Delivery {
  /** The whole reply. */
  text: string;
  /**
   * Text the stream did not show (streaming was not possible, or broke after it started): the
   * core posts it with `sendPart`, in parts, each once.
   */
  rest?: string;
}

/**
 * The contract between the core and a platform. `TDetails` is the type of the adapter's own
 * `ConversationRef.details`. Replies are posted either in parts (`maxChars`, `format`,
 * `sendPart`: the core splits, formats and remembers each part) or whole (`send`).
 */
// `any` by default, so an adapter with its own details interface is still an `Adapter`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Adapter<TDetails extends object = Record<string, any>> {
  readonly platform: string;
  /** The webhook route (POST). */
  readonly path: string;
  /** Content types the webhook accepts; anything else is answered 415. */
  readonly contentTypes: readonly string[];
  /**
   * Whether the platform delivers a webhook again when it gets a 5xx (Slack, Intercom: yes;
   * Twilio: no). When it does not and the queue is down, the message is answered in-process.
   */
  readonly redelivers?: boolean;
  /**
   * Whether the adapter erases conversations (`AdapterContext.forget`, the web chat's DELETE): only
   * then is each answer's cache key noted for the erase (one store write per answer, with its others).
   */
  readonly forgets?: boolean;
  /** Other routes (GET pages, APIs). */
  readonly routes?: readonly Route[];
  /** What the adapter keeps in the store that a restart must not lose, in a few words (Slack with OAuth: its installations); warned of with a store in memory. */
  readonly lastingState?: string;
  start?(context: AdapterContext): Promise<void>;
  stop?(): Promise<void>;
  /** Once started, what /readyz says of a platform lost since (Slack's Socket Mode reconnecting): `failed: <reason>`, or undefined. Shown only: jobs still go ahead. */
  lost?(): `failed: ${string}` | undefined;
  /** Past SHUTDOWN_TIMEOUT_MS with replies under way: close what would stay open on the platform (a Slack message streaming). */
  abandon?(): Promise<void>;
  /** Verify and parse a webhook. Throws HttpError for requests a user caused to fail. */
  receive(request: HttpRequest): Promise<Received<TDetails>>;
  /** The longest part the platform takes, in characters of formatted text; longer replies are split. */
  readonly maxChars?: number;
  /** The reply's markdown as the platform writes it (mrkdwn, WhatsApp's marks), before it is split. Absent: sent as markdown. */
  readonly format?: (markdown: string) => string;
  /**
   * Post one part of a reply and return its platform id, or null to post nothing more of this
   * reply (a teammate took the conversation over). Throws RetryAfterError / PermanentError / other
   * errors for the queue; a short Retry-After is waited out in place. A part the core has
   * recorded as posted is not asked for again.
   */
  sendPart?(conversation: ConversationRef<TDetails>, text: string, part: ReplyPart): Promise<string | null>;
  /**
   * The longest Retry-After the core waits out in place for a post (default 10 s, three times): a
   * worker's slot sleeps meanwhile, held from every other conversation. An adapter whose rate
   * limits are per tenant (Slack, per workspace) sets it low, so one tenant's 429s wait in the queue.
   */
  readonly maxInlineWaitMs?: number;
  /**
   * A part whose post ended in MaybePostedError, or in a wait that says `maybePosted` (a
   * gateway's 502 or 504; either way the platform may have taken it): its id if the platform has
   * it, found by `part.key` (posted with it) or, with no key kept, by its `text`, among what was
   * posted since `since` (epoch ms). Undefined (or no findPart): posted again.
   */
  findPart?(conversation: ConversationRef<TDetails>, part: ReplyPart, since: number, text: string): Promise<string | undefined>;
  /** Post a whole reply in one piece (an adapter without parts, like the web chat's transcript). */
  send?(conversation: ConversationRef<TDetails>, reply: Reply, options?: SendOptions): Promise<Delivery>;
  /**
   * Post a reply as it is generated (Slack's chat streaming). Present only when the platform and
   * the configuration support it; text it could not show comes back as `rest`. An AI failure is
   * thrown as `nothingShown(error)` when none of its text showed, `shownTextTakenBack(error)` when
   * the retry of this reply (`options.key`) takes what showed back: either way the message is asked again.
   */
  stream?(conversation: ConversationRef<TDetails>, chunks: AsyncIterable<string>, options?: SendOptions): Promise<StreamDelivery>;
  /**
   * Throws PermanentError when nothing can be posted in this conversation any more (Slack: the
   * workspace uninstalled the app), so the message is dead-lettered before the AI is asked.
   * Resolves false when the conversation is no longer the bot's to answer (Intercom: a teammate
   * took it over): the message is done then, with no AI call and nothing posted. Called once per
   * message before the handler: it must be cheap (no platform call).
   */
  canReply?(conversation: ConversationRef<TDetails>): Promise<void | boolean>;
  /** Hand the conversation to people (assign it to a team); the bot stays out of it afterwards. */
  handoff?(conversation: ConversationRef<TDetails>): Promise<void>;
  /** Show or clear a "thinking…" indicator. Best effort. */
  indicate?(conversation: ConversationRef<TDetails>, state: Indicator): Promise<void>;
  /**
   * The platform clears the indicator itself when a reply is posted (Slack's assistant status):
   * then "done" is only sent when nothing was posted, saving a platform call per message.
   */
  replyClearsIndicator?: boolean;
  /**
   * In direct mode, turn the reply into the webhook's HTTP answer (Twilio TwiML). Adapters
   * without it get their reply posted before the webhook is answered.
   */
  respondDirect?(reply: Reply, received: Received<TDetails>): HttpResponse;
  /**
   * How soon the platform must have the webhook's answer before it counts the delivery as failed
   * and sends it again (Slack: 3 s). In direct mode such an adapter without `respondDirect` gets
   * its answer as soon as the messages are taken, and the replies are posted after it, while the
   * process lives; unless `Received.afterAckBeforeResponse` says the function is frozen once it
   * answers (then the reply is posted before the answer, as for other adapters).
   */
  ackWithinMs?: number;
  /**
   * A refusal the HTTP layer answered on this adapter's webhook or routes instead of the adapter
   * (a body over BODY_LIMIT_BYTES, a wrong content type or method, an error `receive` or a route
   * threw), returned with what its callers need to read it (the web chat's CORS headers).
   * Absent: the refusal is sent as it is.
   */
  decorateRefusal?(request: HttpRequest, response: HttpResponse): HttpResponse | Promise<HttpResponse>;
}

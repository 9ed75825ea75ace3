/**
 * The web chat: a page, a JSON API to post messages and read or erase a conversation's transcript
 * (JSON, or server-sent events as it changes), with visitor sessions (see access.ts).
 *
 * Files: session.ts (signed visitor tokens), access.ts (who is asking), transcript.ts (what is
 * kept in the store), api.ts (the routes besides POST /web/messages), feedback.ts (POST
 * /web/feedback: 👍/👎 on answers), embed.ts (the pages, the
 * widget for websites, security headers and CORS), this file (the adapter).
 */
import { setMaxListeners } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';
import { HttpError, InvalidPayloadError, checkPayload, exchangeOf, json, rememberSecrets, type Adapter, type AdapterContext, type HttpRequest, type Route } from 'parley/adapter-kit';
import type { ConversationRef, Delivery, Reply, SendOptions } from 'parley/adapter-kit';
import { ConfigError } from 'parley';
import { callerOrNothing, resolveCaller, type Caller } from './access.js';
import { apiRoutes, checkAccess, type WebState } from './api.js';
import { corsReceive, corsRoute, embedRoutes, isImportedModule, loadEmbedFiles, withCors } from './embed.js';
import { limitedRoute, rateLimited, WebLimits, type WebLimitOptions } from './limits.js';
import { checkWebChatOptions } from './options.js';
import { feedbackRoute } from './feedback.js';
import { characterCount, webMessage } from './schema.js';
import { randomId, sessionSecretList, sessions } from './session.js';
import { Transcripts, type TranscriptEntry } from './transcript.js';
import { TranscriptWatch } from './watch.js';

export type { TranscriptEntry } from './transcript.js';
export type { Caller } from './access.js';

export interface WebChatOptions {
  /** The operator's bearer token (full access); default WEB_TOKEN. */
  token?: string | undefined;
  /**
   * Signs visitor sessions; default WEB_SESSION_SECRET. Required off loopback. Several while
   * rotating (a list, or comma-separated): the first signs, any verifies.
   */
  sessionSecret?: string | readonly string[] | undefined;
  /**
   * Serve the chat page at `/`: opt in when you embed parley (default false, so mounting the web chat
   * in your app does not take over its `/`); `parley serve` turns it on. The frame for websites and
   * the widget are always served.
   */
  page?: boolean | undefined;
  /**
   * This process only sends the chat's answers and serves none of its routes (`parley worker`): it
   * signs no visitor session, so it says nothing of WEB_SESSION_SECRET. Default false.
   */
  sendsOnly?: boolean | undefined;
  /** The websites that may embed the chat (frame-ancestors) and call its API (CORS); default WEB_ALLOWED_ORIGINS. */
  allowedOrigins?: string[] | undefined;
  /** How many entries a transcript keeps (default 200). */
  maxTranscript?: number | undefined;
  /** The longest message a visitor may send, in characters (default 4000); longer gets a 413. */
  maxTextLength?: number | undefined;
  /** Abuse limits (limits.ts); default WEB_REQUESTS_PER_IP_PER_MINUTE, WEB_SESSIONS_PER_IP_PER_MINUTE, TRUST_PROXY. */
  limits?: WebLimitOptions | undefined;
  /**
   * How often an event stream with nothing new sends a heartbeat (an SSE comment), in ms (default
   * 15000): under the idle timeouts of the proxies in front (nginx, AWS ALB: 60 s; Heroku: 55 s).
   * A stream whose client takes nothing for 4 heartbeats is cut, freeing its slot.
   */
  streamHeartbeatMs?: number | undefined;
  /**
   * The longest an event stream stays open, in ms (default 300000): it then ends and the page opens
   * a new one at once. A client gone without closing (a laptop shut) holds its stream slot no longer.
   */
  streamMaxAgeMs?: number | undefined;
}

/** The web chat adapter, with `caller` for what needs to know who is asking (per-visitor limits). */
export interface WebChatAdapter extends Adapter {
  /**
   * Who is asking (operator, a visitor, or this machine without credentials); throws a 401 HttpError.
   * For the app's own routes: a `?token=` or `?session=` there is refused only when it holds WEB_TOKEN
   * or a session's token (it may be the route's own parameter).
   */
  caller(request: HttpRequest): Promise<Caller>;
}

const START_WAIT_MS = 5000;

/** Create the web chat adapter. */
export function webChat(given: WebChatOptions = {}): WebChatAdapter {
  const options = checkWebChatOptions(given);
  const maxTranscript = options.maxTranscript ?? 200;
  // The store takes a cap of 0 as no cap: a transcript would grow for as long as its conversation lasts.
  if (!(Number.isInteger(maxTranscript) && maxTranscript >= 1)) throw new ConfigError(`webChat: maxTranscript must be a whole number of entries, 1 or more (default 200), not ${String(maxTranscript)}.`);
  const maxText = options.maxTextLength ?? 4000;
  if (!(Number.isInteger(maxText) && maxText >= 1)) throw new ConfigError(`webChat: maxTextLength must be a whole number of characters, 1 or more (default 4000), not ${String(maxText)}.`);
  const streamHeartbeatMs = options.streamHeartbeatMs ?? 15_000;
  // Up to an hour: its 4 heartbeats' stall timeout still fits a timer (Node runs a longer one at once).
  if (!(streamHeartbeatMs > 0 && streamHeartbeatMs <= 3_600_000)) throw new ConfigError(`webChat: streamHeartbeatMs must be milliseconds between 1 and 3600000 (default 15000), not ${String(streamHeartbeatMs)}.`);
  const streamMaxAgeMs = options.streamMaxAgeMs ?? 300_000;
  if (!(streamMaxAgeMs > 0 && streamMaxAgeMs <= 86_400_000)) throw new ConfigError(`webChat: streamMaxAgeMs must be milliseconds between 1 and 86400000 (default 300000), not ${String(streamMaxAgeMs)}.`);
  let state: WebState | undefined;
  /** The transcripts as the worker writes answers to them (AdapterContext.markerStore). */
  let answers: Transcripts | undefined;
  let refused: string | undefined;
  let markStarted: (value: WebState) => void = () => undefined;
  const started = new Promise<WebState>((resolve) => (markStarted = resolve));
  // Requests are served before start() has finished: they wait for it, briefly.
  const stateOf = async (): Promise<WebState> => {
    if (state) return state;
    if (refused) throw new HttpError(503, 'not_configured', refused);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HttpError(503, 'starting', 'The web chat is not ready yet (see /readyz); retry in a moment.')), START_WAIT_MS);
    });
    try {
      return await Promise.race([started, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  // Known once started (the configuration comes with start()); the routes ask for it per request.
  let allowedOrigins: readonly string[] = options.allowedOrigins ?? [];
  const origins = () => allowedOrigins;
  // The pages, the widget and their assets; the API's answers carry CORS headers for allowed websites.
  const routes: Route[] = [...embedRoutes({ page: options.page === true, allowedOrigins: origins }), ...[...apiRoutes(stateOf), feedbackRoute(stateOf)].map((route) => corsRoute(route, origins))];
  // Every route counts per address and per visitor (limits.ts), but for the modules chat.js imports;
  // a 429 carries CORS headers like any answer.
  const limited = (route: Route) =>
    limitedRoute(route, async (request) => {
      // A preflight answered 429 is one the browser fails as "Failed to fetch": the page's script
      // would never read the 429 (and its Retry-After) that the request itself gets.
      if (isImportedModule(request) || request.method === 'OPTIONS') return undefined;
      const web = await stateOf();
      const refused = await web.limits.checkRequest(request, callerOrNothing(request, web.access));
      return refused && withCors(request, refused, origins());
    });

  const adapter: WebChatAdapter = {
    platform: 'web',
    path: '/web/messages',
    contentTypes: ['application/json'],
    redelivers: true,
    // DELETE /web/conversations/<id>: the cache keys of its answers are noted for it.
    forgets: true,
    routes: routes.map(limited),

    async caller(request) {
      // A developer's own route: its `?token=` or `?session=` may be its own, not a credential.
      return resolveCaller(request, (await stateOf()).access, true);
    },

    async start(context: AdapterContext) {
      // One listener per open event stream (api.ts): dozens are normal, not Node's "possible leak".
      setMaxListeners(0, context.closing);
      const token = options.token ?? context.config.web.token;
      allowedOrigins = options.allowedOrigins ?? context.config.web.allowedOrigins;
      let secrets = sessionSecretList(options.sessionSecret ?? context.config.web.sessionSecret);
      // So an error text quoting one is logged with <hidden> (WEB_SESSION_SECRET's are already known).
      rememberSecrets(...secrets);
      if (secrets.length === 0) {
        // Served to others, sessions must outlive this process and work in every other one.
        if (!context.loopbackOnly || context.config.publicUrl) {
          const why = context.loopbackOnly ? 'PUBLIC_URL says it is served to the internet' : 'the server is not bound to loopback';
          refused = `The web chat is not configured: ${why}, so WEB_SESSION_SECRET must be set to sign visitor sessions the same in every process and across restarts. Fix: set WEB_SESSION_SECRET to a long random string (e.g. $(openssl rand -hex 32)).`;
          throw new ConfigError(refused);
        }
        secrets = [randomBytes(32).toString('base64url')];
        // With a shared store (Redis, DynamoDB) other processes serve the same visitors: they would refuse these sessions.
        const shared = context.store.volatile ? '' : '; other processes sharing this store (several `serve` behind one address) refuse them: set WEB_SESSION_SECRET, the same in every process';
        if (!options.sendsOnly) context.logger.warn(`web chat: WEB_SESSION_SECRET is not set, so visitor sessions are signed with a secret made up for this process (they end when it stops${shared})`);
      }
      const signer = sessions(secrets);
      const historyMs = context.config.history.ttlSeconds * 1000;
      const transcripts = new Transcripts(context.store, historyMs, maxTranscript);
      state = {
        // PUBLIC_URL says the chat is served to the internet (through a proxy on this machine): no "this machine" mode then.
        access: { token, sessions: signer, local: context.loopbackOnly && !token && !context.config.publicUrl },
        sessions: signer,
        transcripts,
        watch: new TranscriptWatch(transcripts),
        streamHeartbeatMs,
        streamMaxAgeMs,
        limits: new WebLimits(context, options.limits),
        forget: (conversation, messages) => context.forget({ platform: 'web', id: conversation }, messages.map((id) => messageIdOf(conversation, id))),
        loggedBy: async (conversation) => (await context.loggedBy?.({ platform: 'web', id: conversation })) ?? [],
        feedback: (feedback) => context.feedback(feedback),
        closing: context.closing,
      };
      answers = new Transcripts(context.markerStore, historyMs, maxTranscript);
      markStarted(state);
      await loadEmbedFiles();
    },

    async receive(request) {
      const web = await stateOf();
      // Refused before anything is kept or queued: the message may simply be sent again later.
      const known = callerOrNothing(request, web.access);
      const overLimit = await web.limits.checkRequest(request, known);
      if (overLimit) return { response: { ...overLimit, outcome: 'rate_limited' }, messages: [] };
      // Verified once; without a valid credential, resolveCaller throws the 401 that says why.
      const caller = known ?? resolveCaller(request, web.access);
      let body: unknown;
      try {
        body = JSON.parse(request.body.toString('utf8'));
      } catch {
        throw new InvalidPayloadError('The body is not valid JSON.', undefined, 400, 'malformed_body');
      }
      const message = checkPayload(webMessage, body, 'The message (send {"text": "<message>"} and, to continue a conversation, "conversation": "<id>")');
      // Characters, not UTF-16 units: fewer units than the limit cannot be over it, so most messages are not counted.
      const characters = message.text.length > maxText ? characterCount(message.text) : 0;
      if (characters > maxText) throw new HttpError(413, 'message_too_long', `A message may have at most ${maxText} characters; this one has ${characters}.`);
      const id = message.id ?? randomUUID();
      // A first message sent again with its id (its 202 was lost) lands in the conversation it started.
      // Only ids long enough to be unique to their message (the page's are 128 random bits): a client
      // numbering each conversation's messages from 1 starts a new conversation each time.
      const resendable = !message.conversation && message.id !== undefined && message.id.length >= UNIQUE_ID_CHARS;
      const started = resendable ? await web.transcripts.startedBy(callerKey(caller), message.id!, message.text, randomId()) : undefined;
      const conversation = message.conversation ?? started?.conversation ?? randomId();
      if (message.conversation) await checkAccess(web, caller, conversation);
      if (caller.kind === 'visitor') await web.transcripts.own(conversation, caller.visitor);
      const receivedAt = new Date().toISOString();
      return {
        response: json(202, { id, conversation }),
        // The visitor's turn is kept only once the core has taken the message (a repeated id is
        // still answered 202; the core's dedupe drops it), and before it can be answered.
        taken: async () => void (await web.transcripts.appendTurn(conversation, id, { role: 'user', text: message.text, at: receivedAt })),
        // Over the core's limits (RATE_LIMIT_USER_PER_MINUTE…) as over the web's own: nothing kept, send it again later.
        overLimit: (refusal) => rateLimited(refusal.retryAfterMs, refusal.limit === 'user' ? 'Too many messages from this visitor' : `Too many messages for this ${refusal.limit}`),
        messages: [
          {
            id: messageIdOf(conversation, id),
            platform: 'web',
            conversation: { platform: 'web', id: conversation },
            user: { id: caller.kind === 'visitor' ? caller.visitor : conversation },
            text: message.text,
            receivedAt,
          },
        ],
      };
    },

    async send(conversation: ConversationRef, reply: Reply, sendOptions?: SendOptions): Promise<Delivery> {
      const entry: TranscriptEntry = { role: 'assistant', text: reply.text, at: new Date().toISOString(), kind: reply.kind ?? 'answer' };
      if (reply.model) entry.model = reply.model;
      // An answer names its exchange (the job that answered), for POST /web/feedback.
      if (entry.kind === 'answer' && sendOptions?.key) entry.exchange = exchangeOf(sendOptions.key);
      await stateOf();
      // Through the store that waits out a short Redis stall: given up on, a write Redis then makes
      // anyway would fail the job, and its retry ask the AI again.
      const transcripts = answers!;
      // A conversation the visitor deleted while its answer was on the way stays deleted.
      if (await transcripts.erased(conversation.id)) return { ids: [randomUUID()] };
      // Once per reply: a retry of a job whose answer was appended (the outcome unknown) shows no second one.
      if (sendOptions?.key) await transcripts.appendAnswer(conversation.id, sendOptions.key, entry);
      else await transcripts.append(conversation.id, entry);
      return { ids: [randomUUID()] };
    },
  };
  // POST /web/messages answers allowed websites with CORS headers too, refusals included: the HTTP
  // layer's own (a body over BODY_LIMIT_BYTES, a wrong content type or method) and those it throws.
  const receive = adapter.receive.bind(adapter);
  adapter.receive = (request) => corsReceive(request, receive, origins());
  // Such a refusal counts against its address as the requests the adapter reads do (over: a 429 instead).
  adapter.decorateRefusal = async (request, response) => withCors(request, (state && (await state.limits.checkRefused(request))) || response, origins());
  return adapter;
}

/**
 * A message's id for the core: scoped by conversation, so one conversation's ids never collide with
 * another's. The conversation's dots (and `%`) are escaped, so its part ends at the first dot:
 * conversation `a.b` with id `1` and conversation `a` with id `b.1` are two messages.
 */
export function messageIdOf(conversation: string, id: string): string {
  return `${conversation.replace(/%/g, '%25').replace(/\./g, '%2E')}.${id}`;
}

/** An id this long is taken as unique to its message (a UUID, the page's 32 hex characters). */
const UNIQUE_ID_CHARS = 16;

/** Who a first message is remembered under: its visitor, or the operator or this machine as a whole. */
function callerKey(caller: Caller): string {
  return caller.kind === 'visitor' ? `visitor:${caller.visitor}` : caller.kind;
}

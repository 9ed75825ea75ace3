/**
 * The web chat's JSON API besides POST /web/messages (the adapter's webhook):
 *
 *   POST   /web/sessions                      start (or renew) a visitor session (no body: any sent is not read)
 *   GET    /web/conversations                 the visitor's conversations
 *   GET    /web/conversations/<id>            a transcript
 *   GET    /web/conversations/<id>/events     the transcript as server-sent events
 *   DELETE /web/conversations/<id>            erase a conversation (transcript, history, log); 204 once nothing of the visitor's is left
 *   POST   /web/feedback                      rate an answer 👍/👎, with a reason (feedback.ts)
 *
 * A visitor reaches only its own conversations: another's id is a 404, so ids cannot be probed (a
 * DELETE is a 204 whether the id is another's or nothing is kept of it: nothing of the visitor's to erase).
 */
import { forwardAbort, HttpError, json, pathOf, publicPathOf, type Feedback, type HttpRequest, type HttpResponse, type Route } from 'parley/adapter-kit';
import { callerOrNothing, refuseTokenInUrl, renewingCaller, resolveCaller, type AccessSettings, type Caller } from './access.js';
import { BEARER_TTL_MS, COOKIE_TTL_MS, sessionCookie, type Sessions } from './session.js';
import { releasing, type WebLimits } from './limits.js';
import type { Transcripts } from './transcript.js';
import { transcriptEvent, type SentTranscript } from './transcript-event.js';
import type { TranscriptFeed, TranscriptWatch } from './watch.js';

/** What the routes use once the adapter has started. */
export interface WebState {
  access: AccessSettings;
  sessions: Sessions;
  transcripts: Transcripts;
  /** The transcripts open event streams follow, polled once per conversation in this process. */
  watch: TranscriptWatch;
  /** An event stream with nothing new sends a comment this often, so proxies keep it open (webChat's streamHeartbeatMs). */
  streamHeartbeatMs: number;
  /** An event stream ends (the page reconnects at once) after at most this long (webChat's streamMaxAgeMs). */
  streamMaxAgeMs: number;
  /** Requests, new sessions and event streams per address and per visitor. */
  limits: WebLimits;
  /** The core's forget, given the ids of the conversation's messages (as posted). */
  forget(conversation: string, messages: string[]): Promise<void>;
  /** Who the conversation log's exchanges under this id are by (AdapterContext.loggedBy): whose it was, once its owner record expired. */
  loggedBy(conversation: string): Promise<{ platform: string; user: string }[]>;
  /** Store and count a rating of an answer (AdapterContext.feedback); false for an exchange the log does not hold. */
  feedback(feedback: Feedback): Promise<boolean>;
  /** Aborted when the bot closes: open event streams end then, so the server can close. */
  closing: AbortSignal;
}

/** The adapter's state, waiting (briefly) for start(): requests can arrive before it has finished. */
export type StateOf = () => Promise<WebState>;

/** An event stream whose client takes nothing for this many heartbeats (its writes backed up) is cut: the client is gone. */
const STALLED_HEARTBEATS = 4;
/** How often an event stream checks that its conversation is still the visitor's. */
const EVENTS_OWNER_CHECK_MS = 5000;
/** An event stream ends between 80% and 100% of its maximum age. */
const MAX_AGE_JITTER = 0.2;
/**
 * Sent as a stream ends by plan (its maximum age, or its token's expiry), never on a failure: the page
 * opens a new stream at once, without its error backoff. (An SSE event with no data is not dispatched.)
 */
const RECONNECT_EVENT = 'event: reconnect\ndata: {}\n\n';
// X-Accel-Buffering: nginx passes each event on at once, not when its buffer fills. No-transform: a
// compression() middleware in the embedding app (or a proxy) leaves it as it is, rather than holding
// the events in its gzip buffer until kilobytes of them have come.
const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' };
const notFound = () => new HttpError(404, 'not_found', 'No such conversation.');

/** Throws 404 unless `caller` may use `conversation` (operator and local: every one; a visitor: its own). */
export async function checkAccess(state: WebState, caller: Caller, conversation: string): Promise<void> {
  if (caller.kind !== 'visitor') return;
  if ((await state.transcripts.owner(conversation)) !== caller.visitor) throw notFound();
}

/**
 * Whether `caller` erases `conversation`: the operator (and this machine) any; a visitor its own,
 * known by its owner record while the transcript lives and, once that has expired, by the log's
 * exchanges (the visitor's, with the operator's in it: user = the conversation). False for someone
 * else's, as for one nothing is known of: nothing of the visitor's to erase (the same 204 either way, so ids cannot be probed).
 */
async function mayErase(state: WebState, caller: Caller, conversation: string): Promise<boolean> {
  if (caller.kind !== 'visitor') return true;
  const owner = await state.transcripts.owner(conversation);
  if (owner !== undefined) return owner === caller.visitor;
  const logged = await state.loggedBy(conversation);
  const by = (user: string) => (entry: { platform: string; user: string }) => entry.platform === 'web' && entry.user === user;
  return logged.some(by(caller.visitor)) && logged.every((entry) => by(caller.visitor)(entry) || by(conversation)(entry));
}

/** The conversation id in /web/conversations/<id>[/events], and whether it is the event stream. */
function conversationPath(request: HttpRequest): { conversation: string; events: boolean } {
  const [encoded, suffix, ...more] = pathOf(request).slice('/web/conversations/'.length).split('/');
  let conversation = '';
  try {
    conversation = decodeURIComponent(encoded ?? '');
  } catch {
    // As the console answers one: the id is there, but no conversation can be named so.
    throw new HttpError(400, 'malformed_id', 'The conversation id in the path is not valid percent-encoding.');
  }
  if (!conversation || more.length > 0 || (suffix !== undefined && suffix !== 'events')) throw new HttpError(404, 'not_found', 'Use /web/conversations/<id> or /web/conversations/<id>/events.');
  return { conversation, events: suffix === 'events' };
}

export function apiRoutes(stateOf: StateOf): Route[] {
  const sessionRoute: Route = {
    method: 'POST',
    path: '/web/sessions',
    async handle(request) {
      const state = await stateOf();
      // A token in the URL is refused here too, not taken for no credential (a stranger's new session).
      refuseTokenInUrl(request);
      // A still-valid session, or a renew token (the cookie's stand-in in a frame on another site),
      // renews for the same visitor; anything else starts a new one.
      const current = renewingCaller(request, state.access) ?? callerOrNothing(request, state.access);
      const refused = await state.limits.checkNewSession(request, current);
      if (refused) return refused;
      const visitor = current?.kind === 'visitor' ? current.visitor : undefined;
      const bearer = state.sessions.issue(BEARER_TTL_MS, visitor);
      const cookie = state.sessions.issue(COOKIE_TTL_MS, bearer.visitor);
      // As long-lived as the cookie, for the frames that get none.
      const renew = state.sessions.issueRenew(COOKIE_TTL_MS, bearer.visitor);
      return json(
        201,
        { token: bearer.token, expiresAt: bearer.expiresAt.toISOString(), expiresIn: BEARER_TTL_MS / 1000, visitor: bearer.visitor, streamToken: state.sessions.streamToken(bearer), renewToken: renew.token },
        { 'set-cookie': sessionCookie(cookie.token, request.url.protocol === 'https:', publicPathOf(request, '/web')), 'cache-control': 'no-store' },
      );
    },
  };

  /** A route for callers with a credential (or this machine, with no setup): the rest get a 401. */
  const route = (method: Route['method'], path: string, handle: (request: HttpRequest, state: WebState, caller: Caller) => Promise<HttpResponse>): Route => ({
    method,
    path,
    async handle(request) {
      const state = await stateOf();
      return handle(request, state, resolveCaller(request, state.access));
    },
  });

  const listRoute = route('GET', '/web/conversations', async (_request, state, caller) =>
    json(200, { conversations: caller.kind === 'visitor' ? await state.transcripts.ofVisitor(caller.visitor) : [] }),
  );

  const readRoute = route('GET', '/web/conversations/', async (request, state, caller) => {
    const { conversation, events } = conversationPath(request);
    await checkAccess(state, caller, conversation);
    if (!events) return json(200, { messages: await state.transcripts.read(conversation) });
    // A visitor's stream ends when the token it was opened with expires (the browser reconnects with
    // its renewed credentials), and when the conversation is no longer the visitor's.
    const expiresAt = caller.kind === 'visitor' ? caller.session.expiresAt.getTime() : Infinity;
    // And at its maximum age: a client gone without a word (a laptop shut) holds its slot no longer than
    // that, not until TCP gives up (~15 min). Jittered down, so a visitor's tabs do not reconnect together.
    const endsAt = Math.min(expiresAt, Date.now() + state.streamMaxAgeMs * (1 - MAX_AGE_JITTER * Math.random()));
    const stillAllowed = () => checkAccess(state, caller, conversation).then(() => true, () => false);
    // At most so many open at once per visitor and per address; the slot is freed when the stream ends.
    // The client leaving stops the polling at once too, not at the generator's next yield (up to a heartbeat away).
    // Not AbortSignal.any([left, closing]): on Node 20 each call stays on the bot's lifelong signal.
    // Tied to closing only once the stream runs (a stream refused with 429 never does), untied as it ends.
    const left = new AbortController();
    let undo = () => undefined as void;
    let feed: TranscriptFeed | undefined;
    const running = (async function* () {
      undo = forwardAbort(state.closing, left);
      feed = state.watch.follow(conversation);
      yield* transcriptEvents(feed, stillAllowed, { endsAt, heartbeatMs: state.streamHeartbeatMs, changes: request.url.searchParams.get('changes') === '1' }, left.signal);
    })();
    const stream = releasing(running, () => (undo(), left.abort(), feed?.close()));
    const stallTimeoutMs = STALLED_HEARTBEATS * state.streamHeartbeatMs;
    return state.limits.boundStream(request, caller, { status: 200, headers: sseHeaders, stream, stallTimeoutMs });
  });

  // Idempotent: a 204 once nothing of the conversation is left, whether or not its transcript has expired.
  const deleteRoute = route('DELETE', '/web/conversations/', async (request, state, caller) => {
    const { conversation, events } = conversationPath(request);
    if (events) throw new HttpError(404, 'not_found', 'Use DELETE /web/conversations/<id>.');
    if (await mayErase(state, caller, conversation)) {
      const messages = await state.transcripts.messageIds(conversation);
      await state.transcripts.erase(conversation);
      await state.forget(conversation, messages);
    }
    return { status: 204 };
  });

  return [sessionRoute, listRoute, readRoute, deleteRoute];
}

/**
 * Server-sent events: the whole transcript whenever it changes (with `changes`, after the first, only
 * what changed: transcript-event.ts), and a heartbeat comment when there
 * was nothing else to send for a while (a proxy cuts a connection idle for 55-60 s; and writing is
 * how a client gone without closing is found out); ends when access is lost, and at `endsAt` with
 * the reconnect event.
 */
async function* transcriptEvents(feed: TranscriptFeed, stillAllowed: () => Promise<boolean>, options: { endsAt: number; heartbeatMs: number; changes: boolean }, left: AbortSignal): AsyncGenerator<string> {
  const { endsAt, heartbeatMs, changes } = options;
  let sent: SentTranscript | undefined;
  let quietSince = Date.now();
  let checkedAt = Date.now();
  while (!left.aborted) {
    // The store unreachable (Redis restarting): the stream ends, and the browser reconnects (a 503 until it is back).
    const snapshot = await feed.latest();
    if (!snapshot) return;
    if (sent === undefined || snapshot.version !== sent.last) {
      const event = transcriptEvent(snapshot, sent, changes);
      sent = { last: snapshot.version, count: snapshot.items.length };
      quietSince = Date.now();
      yield event;
    } else if (Date.now() - quietSince >= heartbeatMs) {
      quietSince = Date.now();
      yield ': keep-alive\n\n';
    }
    const now = Date.now();
    if (now >= endsAt) {
      yield RECONNECT_EVENT;
      return;
    }
    if (now - checkedAt >= EVENTS_OWNER_CHECK_MS) {
      checkedAt = now;
      if (!(await stillAllowed().catch(() => false))) return;
    }
    // Woken by a change, by the next heartbeat, check or the end, or by the client leaving or the bot
    // closing, so the response ends at once (the server can close).
    const untilNext = Math.min(quietSince + heartbeatMs, checkedAt + EVENTS_OWNER_CHECK_MS, endsAt) - Date.now();
    await feed.changed(Math.max(untilNext, 1), left);
  }
}

/**
 * The web chat: a page for local use and demos, a JSON API to post messages, and the
 * conversation's transcript (JSON, or server-sent events as it changes).
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HttpError, InvalidPayloadError, checkPayload, isLoopbackHost, json, safeEqual, type Adapter, type AdapterContext, type HttpRequest, type Route } from 'parley/adapter-kit';
import type { ConversationRef, Delivery, Reply, Store } from 'parley/adapter-kit';
import { webMessage } from './schema.js';

export interface WebChatOptions {
  /** Bearer token for the API. Required when the server is reachable from other machines. */
  token?: string;
  /** Serve the chat page at `/` (default true). */
  page?: boolean;
  /** How many entries a transcript keeps (default 200). */
  maxTranscript?: number;
}

export interface TranscriptEntry {
  role: 'user' | 'assistant';
  text: string;
  at: string;
  kind?: Reply['kind'];
  /** The model that answered (the fallback's, while the primary was down). */
  model?: string;
}

const TRANSCRIPT_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const EVENTS_POLL_MS = 250;
const EVENTS_HEARTBEAT_MS = 15_000;

/** Create the web chat adapter. */
export function webChat(options: WebChatOptions = {}): Adapter {
  const maxTranscript = options.maxTranscript ?? 200;
  let store: Store | undefined;
  let requireToken = Boolean(options.token);
  // Read once; the route awaits it too, since requests are served before start() has finished.
  let page: Promise<string> | undefined;
  const loadPage = () => (page ??= readFile(new URL('./page.html', import.meta.url), 'utf8'));

  const transcriptKey = (conversation: string) => `parley:web:transcript:${conversation}`;
  const started = () => {
    if (!store) throw new Error('the web chat adapter has not been started');
    return store;
  };
  const append = (conversation: string, entry: TranscriptEntry) =>
    started().listPush(transcriptKey(conversation), [JSON.stringify(entry)], { maxLength: maxTranscript, ttlMs: TRANSCRIPT_TTL_MS });
  const transcript = async (conversation: string): Promise<TranscriptEntry[]> =>
    (await started().listRange(transcriptKey(conversation), 0, -1)).map((item) => JSON.parse(item) as TranscriptEntry);

  function authorize(request: HttpRequest): void {
    // Without a token, only requests from this machine: embedded in someone else's server (or a
    // serverless function) the bind address says nothing, so the request's own address decides.
    if (!options.token && !fromThisMachine(request)) {
      throw new HttpError(401, 'token_required', 'The web chat answers other machines only with a token: set WEB_TOKEN and send it as a bearer token.');
    }
    if (!requireToken) return;
    if (!options.token) throw new HttpError(401, 'token_required', 'This server is reachable from other machines: set WEB_TOKEN and send it as a bearer token.');
    const given = request.headers.authorization?.replace(/^Bearer\s+/i, '') ?? request.url.searchParams.get('token') ?? '';
    if (!safeEqual(given, options.token)) throw new HttpError(401, 'bad_token', 'Send the web chat token as "Authorization: Bearer <WEB_TOKEN>".');
  }

  const conversationRoute: Route = {
    method: 'GET',
    path: '/web/conversations/',
    async handle(request) {
      authorize(request);
      const rest = request.url.pathname.slice('/web/conversations/'.length);
      const [encoded, suffix] = rest.split('/');
      const conversation = decodeURIComponent(encoded ?? '');
      if (!conversation || (suffix !== undefined && suffix !== 'events')) throw new HttpError(404, 'not_found', 'Use /web/conversations/<id> or /web/conversations/<id>/events.');
      if (suffix === 'events') return { status: 200, headers: sseHeaders, stream: transcriptEvents(() => transcript(conversation)) };
      return json(200, { messages: await transcript(conversation) });
    },
  };
  const pageRoute: Route = {
    method: 'GET',
    path: '/',
    handle: async () => ({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }, body: await loadPage() }),
  };

  return {
    platform: 'web',
    path: '/web/messages',
    contentTypes: ['application/json'],
    redelivers: true,
    routes: options.page === false ? [conversationRoute] : [pageRoute, conversationRoute],

    async start(context: AdapterContext) {
      store = context.store;
      requireToken = Boolean(options.token) || !context.loopbackOnly;
      if (requireToken && !options.token) context.logger.warn('web chat: the server is not bound to loopback and WEB_TOKEN is not set, so the chat API refuses every request');
      if (options.page !== false) await loadPage();
    },

    async receive(request) {
      authorize(request);
      let body: unknown;
      try {
        body = JSON.parse(request.body.toString('utf8'));
      } catch {
        throw new InvalidPayloadError('The body is not valid JSON.', undefined, 400, 'malformed_body');
      }
      const message = checkPayload(webMessage, body, 'The message (send {"conversation": "<id>", "text": "<message>"} with non-empty strings)');
      const { conversation, text } = message;
      const id = message.id ?? randomUUID();
      const receivedAt = new Date().toISOString();
      await append(conversation, { role: 'user', text, at: receivedAt });
      return {
        response: json(202, { id }),
        messages: [
          {
            id,
            platform: 'web',
            conversation: { platform: 'web', id: conversation },
            user: { id: conversation },
            text,
            receivedAt,
          },
        ],
      };
    },

    async send(conversation: ConversationRef, reply: Reply): Promise<Delivery> {
      const entry: TranscriptEntry = { role: 'assistant', text: reply.text, at: new Date().toISOString(), kind: reply.kind ?? 'answer' };
      if (reply.model) entry.model = reply.model;
      await append(conversation.id, entry);
      return { ids: [randomUUID()] };
    },
  };
}

const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' };

/** Server-sent events: the whole transcript whenever it grows, and a heartbeat comment. */
async function* transcriptEvents(read: () => Promise<TranscriptEntry[]>): AsyncGenerator<string> {
  let sent = -1;
  let quietSince = Date.now();
  for (;;) {
    const messages = await read();
    if (messages.length !== sent) {
      sent = messages.length;
      quietSince = Date.now();
      yield `data: ${JSON.stringify({ messages })}\n\n`;
    } else if (Date.now() - quietSince > EVENTS_HEARTBEAT_MS) {
      quietSince = Date.now();
      yield ': keep-alive\n\n';
    }
    await new Promise((resolve) => setTimeout(resolve, EVENTS_POLL_MS));
  }
}

function fromThisMachine(request: HttpRequest): boolean {
  const address = request.remoteAddress?.replace(/^::ffff:/, '');
  return address !== undefined && isLoopbackHost(address) && !request.headers['x-forwarded-for'] && !request.headers.forwarded;
}

/**
 * A small fake of Slack's Web API on loopback: Slack faked at the HTTP boundary. Point the real
 * `WebClient` (or a Bolt `App` via `clientOptions`) at it with `slackApiUrl: fake.url`. Every call is
 * recorded with its parsed arguments and answered with a Slack-shaped default, unless a test
 * overrides the method with `on()`.
 *
 * A scripted 429 (the first chat.postMessage is rate limited, later ones succeed):
 *
 *   fake.on('chat.postMessage', (_call, n) =>
 *     n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } } : undefined);
 *
 * Like Slack, a call without a token (neither `Authorization: Bearer …` nor a `token` argument)
 * is answered `{ ok: false, error: 'not_authed' }` — except `oauth.v2.access`, which takes the
 * app's client id and secret (arguments or Basic auth) and serves both grants: a `code` (each works
 * once) gives a new installation's bot token, with a refresh token and `expires_in` when the fake
 * has `tokenRotation`; `grant_type=refresh_token` gives a new token and refresh token, and, as
 * Slack does, revokes the refresh token it was given (a second use is `invalid_refresh_token`).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listStreamed, streamAnswer, type FakeStream } from './slack-streams.js';

export type { FakeStream } from './slack-streams.js';

export interface SlackCall {
  /** The Web API method, e.g. `chat.postMessage`. */
  method: string;
  /** The call's arguments (form or JSON body plus query), JSON-looking strings parsed. */
  args: Record<string, unknown>;
  at: number;
  /** Request headers, lower-cased names. */
  headers: Record<string, string | undefined>;
  /** The token the call was made with (bearer header or `token` argument), if any. */
  token?: string;
}

export interface FakeAnswer {
  /** HTTP status (default 200). */
  status?: number;
  headers?: Record<string, string>;
  /** The JSON body; omitted → the method's default answer (status 200) or a generic error. */
  body?: Record<string, unknown>;
  delayMs?: number;
  /**
   * The call takes effect at once (a message is posted); only its answer comes after `delayMs`, or
   * never when the client has gone (a timeout the client cannot tell from a failure). With `body`,
   * that body is the answer to a call that took effect.
   */
  takenAtOnce?: boolean;
  /** Answer only once this settles (e.g. once a test has stopped Redis). */
  after?: Promise<unknown>;
  /** Cut the connection instead of answering (with `takenAtOnce`: after the call took effect). */
  destroy?: boolean;
  /** A body that is not JSON, answered as it is (text/html unless `headers` say): a proxy's page. With `takenAtOnce`, the call took effect first. */
  raw?: string | Buffer;
}

export type FakeAnswerFn = (call: SlackCall, nth: number) => FakeAnswer | undefined;

export interface FakeSlack {
  /** Base URL for WebClient's `slackApiUrl`, e.g. `http://127.0.0.1:PORT/api/` (trailing slash). */
  url: string;
  calls: SlackCall[];
  /** Streamed messages by ts: their text, and whether they are still streaming (slack-streams.ts). */
  streams: Map<string, FakeStream>;
  /** The calls made to one method, in order. */
  callsTo(method: string): SlackCall[];
  /**
   * Override the answer for a method; `nth` is the 0-based index of the call among calls to that
   * method. Return undefined to fall back to the default.
   */
  on(method: string, answer: FakeAnswerFn): void;
  /** Clear recorded calls, posted messages and overrides. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeSlackOptions {
  botUserId?: string;
  botId?: string;
  teamId?: string;
  /** The app's credentials oauth.v2.access accepts (default: any). */
  clientId?: string;
  clientSecret?: string;
  /** Tokens from a code exchange expire (refresh_token and expires_in in the answer). */
  tokenRotation?: boolean;
  /** Listen on this port (default: any free port). */
  port?: number;
}

interface Identity {
  botUserId: string;
  botId: string;
  teamId: string;
  appId: string;
}

/** Start the fake on a free loopback port. */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const me: Identity = {
    botUserId: options.botUserId ?? 'UBOT',
    botId: options.botId ?? 'BBOT',
    teamId: options.teamId ?? 'T0PARLEY',
    appId: 'A0PARLEY',
  };
  const calls: SlackCall[] = [];
  const oauth = fakeOAuth(me, options);
  const overrides = new Map<string, FakeAnswerFn>();
  /** Messages chat.postMessage posted, oldest first: what conversations.replies / history read. */
  const posted: Record<string, unknown>[] = [];
  const streams = new Map<string, FakeStream>();
  let tsCounter = 0;
  // Increasing, unique message timestamps in Slack's "seconds.micros" form: 1700000000.000100, .000200, …
  const nextTs = () => {
    tsCounter++;
    const micros = tsCounter * 100;
    return `${1_700_000_000 + Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;
  };

  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const requestUrl = new URL(req.url ?? '/', 'http://127.0.0.1');
    const match = /^\/api\/([A-Za-z0-9_.]+)$/.exec(requestUrl.pathname);
    if (!match?.[1]) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error: 'not_found' }));
      return;
    }
    const method = match[1];
    const headers = flattenHeaders(req.headers);
    const args = { ...parseJsonLooking(Object.fromEntries(requestUrl.searchParams)), ...parseArgs(headers['content-type'], raw) };
    const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1];
    const token = bearer ?? (typeof args.token === 'string' && args.token !== '' ? args.token : undefined);
    const call: SlackCall = { method, args, at: Date.now(), headers, token };
    const nth = calls.filter((c) => c.method === method).length;
    calls.push(call);

    const answer = overrides.get(method)?.(call, nth) ?? {};
    const needsToken = method !== 'oauth.v2.access';
    const status = answer.status ?? 200;
    const respond = () =>
      answer.body ??
      (status === 200
        ? !needsToken
          ? oauth.access(args, headers)
          : token
            ? defaultAnswer(method, args, me, nextTs, posted, streams)
            : { ok: false, error: 'not_authed' }
        : { ok: false, error: status === 429 ? 'ratelimited' : `fake_http_${status}` });
    // With a `body` of the test's, the call takes effect all the same (an error Slack gives after posting).
    const taken = answer.takenAtOnce ? (answer.body !== undefined && token ? (defaultAnswer(method, args, me, nextTs, posted, streams), answer.body) : respond()) : undefined;
    if (answer.destroy) return void req.socket.destroy();
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.after) await answer.after.catch(() => undefined);
    if (res.destroyed) return;
    if (answer.raw !== undefined) return void res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...answer.headers }).end(answer.raw);
    const body = taken ?? respond();
    res
      .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers })
      .end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    streams,
    callsTo: (method) => calls.filter((c) => c.method === method),
    on: (method, answer) => void overrides.set(method, answer),
    reset: () => {
      calls.length = 0;
      posted.length = 0;
      streams.clear();
      overrides.clear();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** oauth.v2.access: the code grant (each code once) and the refresh_token grant (each refresh token once). */
function fakeOAuth(me: Identity, options: FakeSlackOptions) {
  const used = new Set<string>();
  let issued = 0;
  const rotation = (refresh: boolean) => (refresh || options.tokenRotation ? { refresh_token: `xoxe-1-fake-refresh-${issued}`, expires_in: 43_200 } : {});
  return {
    access(args: Record<string, unknown>, headers: Record<string, string | undefined>): Record<string, unknown> {
      const basic = /^Basic\s+(.+)$/i.exec(headers.authorization ?? '')?.[1];
      const [basicId, basicSecret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
      const clientId = typeof args.client_id === 'string' ? args.client_id : basicId;
      const clientSecret = typeof args.client_secret === 'string' ? args.client_secret : basicSecret;
      if (!clientId || (options.clientId !== undefined && clientId !== options.clientId)) return { ok: false, error: 'invalid_client_id' };
      if (!clientSecret || (options.clientSecret !== undefined && clientSecret !== options.clientSecret)) return { ok: false, error: 'bad_client_secret' };
      const refreshing = args.grant_type === 'refresh_token';
      const grant = refreshing ? args.refresh_token : args.code;
      if (typeof grant !== 'string' || grant === '') return { ok: false, error: refreshing ? 'invalid_refresh_token' : 'invalid_code' };
      if (used.has(grant)) return { ok: false, error: refreshing ? 'invalid_refresh_token' : 'code_already_used' };
      used.add(grant);
      issued++;
      return {
        ok: true,
        access_token: refreshing ? `xoxe.xoxb-1-fake-rotated-${issued}` : `xoxb-${me.teamId}-fake-${issued}`,
        token_type: 'bot',
        scope: 'app_mentions:read,chat:write,im:history',
        bot_user_id: me.botUserId,
        app_id: me.appId,
        team: { id: me.teamId, name: 'Parley Test' },
        enterprise: null,
        is_enterprise_install: false,
        ...(refreshing ? {} : { authed_user: { id: 'U0ALICE' } }),
        ...rotation(refreshing),
      };
    },
  };
}

/** Slack's answer for a successful call, shaped like the real one (the fields our code reads). */
/** One page of `limit` (default 100) messages from `cursor` on, as Slack pages conversations.*. */
function page(messages: Record<string, unknown>[], args: Record<string, unknown>) {
  const from = Number(args.cursor ?? 0) || 0;
  const to = from + (Number(args.limit ?? 100) || 100);
  const more = to < messages.length;
  return { messages: messages.slice(from, to), has_more: more, response_metadata: { next_cursor: more ? String(to) : '' } };
}

function defaultAnswer(method: string, args: Record<string, unknown>, me: Identity, nextTs: () => string, posted: Record<string, unknown>[], streams: Map<string, FakeStream>): Record<string, unknown> {
  const channel = typeof args.channel === 'string' ? args.channel : undefined;
  switch (method) {
    case 'api.test':
      return { ok: true, args };
    case 'auth.test':
      return {
        ok: true,
        url: 'https://parley-test.slack.com/',
        team: 'Parley Test',
        user: 'parley',
        team_id: me.teamId,
        user_id: me.botUserId,
        bot_id: me.botId,
        is_enterprise_install: false,
      };
    case 'chat.postMessage': {
      if (!channel) return { ok: false, error: 'channel_not_found' };
      if (args.text === undefined && args.blocks === undefined && args.attachments === undefined) return { ok: false, error: 'no_text' };
      const ts = nextTs();
      const message = botMessage(args, me, ts);
      posted.push({ ...message, channel });
      return { ok: true, channel, ts, message };
    }
    case 'chat.postEphemeral':
      return channel ? { ok: true, message_ts: nextTs() } : { ok: false, error: 'channel_not_found' };
    case 'chat.update': {
      const ts = String(args.ts ?? '');
      return { ok: true, channel, ts, text: args.text ?? '', message: botMessage(args, me, ts) };
    }
    case 'chat.delete':
      return { ok: true, channel, ts: args.ts };
    case 'chat.startStream':
    case 'chat.appendStream':
    case 'chat.stopStream': {
      const answer = streamAnswer(method, args, streams, nextTs);
      listStreamed(answer, args, streams, posted, { user: me.botUserId, botId: me.botId });
      return answer;
    }
    case 'reactions.add':
    case 'reactions.remove':
    case 'assistant.threads.setStatus':
    case 'assistant.threads.setSuggestedPrompts':
    case 'assistant.threads.setTitle':
      return { ok: true };
    // The messages posted here (the fake's timestamps are not times: `oldest` is not applied).
    case 'conversations.replies':
      return { ok: true, ...page(posted.filter((m) => m.channel === channel && (m.thread_ts === args.ts || m.ts === args.ts)).map((m) => shown(m, args)), args) };
    case 'conversations.history':
      return { ok: true, pin_count: 0, ...page(posted.filter((m) => m.channel === channel).reverse().map((m) => shown(m, args)), args) };
    case 'conversations.info':
      return {
        ok: true,
        channel: {
          id: channel ?? 'C0GENERAL',
          name: channel?.startsWith('D') ? undefined : 'general',
          is_channel: !channel?.startsWith('D'),
          is_im: Boolean(channel?.startsWith('D')),
          is_private: false,
          is_member: true,
          context_team_id: me.teamId,
        },
      };
    case 'users.info': {
      const id = typeof args.user === 'string' ? args.user : 'U0ALICE';
      return {
        ok: true,
        user: { id, team_id: me.teamId, name: id.toLowerCase(), real_name: `User ${id}`, is_bot: false, profile: { display_name: id.toLowerCase(), real_name: `User ${id}` } },
      };
    }
    default:
      return { ok: false, error: 'unknown_method' };
  }
}

/** A posted message as a conversations.* method shows it: its metadata only with include_all_metadata. */
function shown(message: Record<string, unknown>, args: Record<string, unknown>): Record<string, unknown> {
  const { channel: _channel, metadata, ...rest } = message;
  return { ...rest, ...(metadata !== undefined && (args.include_all_metadata === true || args.include_all_metadata === 'true') ? { metadata } : {}) };
}

function botMessage(args: Record<string, unknown>, me: Identity, ts: string): Record<string, unknown> {
  return {
    type: 'message',
    user: me.botUserId,
    bot_id: me.botId,
    app_id: me.appId,
    team: me.teamId,
    text: args.text ?? '',
    ts,
    ...(args.thread_ts !== undefined ? { thread_ts: args.thread_ts } : {}),
    ...(args.blocks !== undefined ? { blocks: args.blocks } : {}),
    ...(args.metadata !== undefined ? { metadata: args.metadata } : {}),
  };
}

/** Parse a Web API request body: form-encoded (WebClient's default) or JSON. */
function parseArgs(contentType: string | undefined, raw: string): Record<string, unknown> {
  if (raw === '') return {};
  if (contentType?.includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
  return parseJsonLooking(Object.fromEntries(new URLSearchParams(raw)));
}

/** Form values for arrays/objects (blocks, prompts, chunks…) arrive as JSON strings. */
function parseJsonLooking(values: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    out[key] = value;
    if (value.startsWith('[') || value.startsWith('{')) {
      try {
        out[key] = JSON.parse(value);
      } catch {
        // Not JSON after all: keep the string.
      }
    }
  }
  return out;
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

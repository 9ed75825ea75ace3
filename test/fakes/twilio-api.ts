/**
 * A small fake of Twilio's REST API on loopback: Twilio faked at the HTTP boundary. Point the
 * WhatsApp adapter at it with TWILIO_API_URL=fake.url. Every POST to
 * /2010-04-01/Accounts/{AccountSid}/Messages.json is recorded with its form body and answered
 * like Twilio (a message resource, status "queued"), unless a test scripts the answer with `on()`.
 * The messages it created are listed as Twilio lists them: GET on the same path, filtered on To,
 * From and DateSent (a message not sent yet has no date_sent, so any DateSent filter leaves it
 * out), the ones not sent yet first, then by date sent, newest first, in pages (PageSize, Page,
 * next_page_uri).
 *
 * Scripted errors look like Twilio's:
 *
 *   fake.on((_call, n) => (n === 0 ? fake.error(400, 63016, 'Failed to send freeform message because you are outside the allowed window.') : undefined));
 *   fake.on((_call, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: { code: 20429, message: 'Too Many Requests', status: 429 } } : undefined));
 *
 * Like Twilio, a call without Basic auth for the account is answered 401 (error 20003).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TwilioCall {
  accountSid: string;
  /** The form body: To, From, MessagingServiceSid, Body… */
  form: Record<string, string>;
  at: number;
  /** The Basic auth user and password the call was made with. */
  auth?: { user: string; password: string };
}

export interface TwilioAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: Record<string, unknown>;
  /** Answer this late; the message is created at once all the same (Twilio created it, its answer is slow). */
  delayMs?: number;
  /** Drop the connection without an answer (a connection error for the client). */
  hangUp?: boolean;
  /** Whether Twilio creates the message: by default when the answer is a 2xx (not `raw`); set it for a hang-up after the message was made. */
  taken?: boolean;
  /** A body that is not JSON, answered as it is (text/html unless `headers` say): a proxy's page, so nothing is created unless `taken`. */
  raw?: string | Buffer;
}

export type TwilioAnswerFn = (call: TwilioCall, nth: number) => TwilioAnswer | undefined;

export interface FakeTwilio {
  /** Base URL for TWILIO_API_URL, e.g. `http://127.0.0.1:PORT`. */
  url: string;
  /** Every Messages.json create (POST), in order (refused ones included). */
  calls: TwilioCall[];
  /** The messages Twilio holds (created), oldest first, as its API shows them. */
  messages: Record<string, unknown>[];
  /** The query of every list (GET) of Messages.json, in order. */
  lists: URLSearchParams[];
  /** The bodies of the calls, in order. */
  bodies(): string[];
  /** Script the answers; `nth` is the 0-based index of the call. Undefined falls back to success. */
  on(answer: TwilioAnswerFn): void;
  /** A Twilio-shaped error answer. */
  error(status: number, code: number, message: string): TwilioAnswer;
  reset(): void;
  close(): Promise<void>;
}

/** Start the fake on a free loopback port (or `port`); `credentials` are the account SID and auth token it accepts. */
export async function startFakeTwilio(credentials: { accountSid: string; authToken: string }, port = 0): Promise<FakeTwilio> {
  const calls: TwilioCall[] = [];
  const messages: Record<string, unknown>[] = [];
  const lists: URLSearchParams[] = [];
  let script: TwilioAnswerFn | undefined;
  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
    if (!match?.[1] || (req.method !== 'POST' && req.method !== 'GET')) {
      reply(404, { code: 20404, message: `The requested resource ${path} was not found`, more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 });
      return;
    }
    const auth = basicAuth(req.headers.authorization);
    const authorized = auth?.user === credentials.accountSid && auth.password === credentials.authToken && match[1] === credentials.accountSid;
    if (req.method === 'GET') {
      lists.push(url.searchParams);
      if (!authorized) reply(401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
      else reply(200, listPage(path, url.searchParams, messages));
      return;
    }
    const call: TwilioCall = { accountSid: match[1], form: Object.fromEntries(new URLSearchParams(raw)), at: Date.now(), auth };
    const nth = calls.length;
    calls.push(call);
    if (!authorized) {
      reply(401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
      return;
    }
    const answer = script?.(call, nth) ?? {};
    const status = answer.status ?? 201;
    const resource = messageResource(call);
    if (answer.taken ?? (!answer.hangUp && answer.raw === undefined && status >= 200 && status < 300)) messages.push(resource);
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.hangUp) {
      res.socket?.destroy();
      return;
    }
    if (res.destroyed) return;
    if (answer.raw !== undefined) return void res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...answer.headers }).end(answer.raw);
    reply(status, answer.body ?? resource, answer.headers);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    messages,
    lists,
    bodies: () => calls.map((c) => c.form.Body ?? ''),
    on: (answer) => void (script = answer),
    error: (status, code, message) => ({ status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } }),
    reset: () => {
      calls.length = 0;
      messages.length = 0;
      lists.length = 0;
      script = undefined;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The message resource Twilio answers a create with (the fields clients read). */
function messageResource(call: TwilioCall): Record<string, unknown> {
  const sid = `SM${randomBytes(16).toString('hex')}`;
  const now = new Date().toUTCString();
  return {
    sid,
    account_sid: call.accountSid,
    api_version: '2010-04-01',
    body: call.form.Body ?? '',
    date_created: now,
    date_updated: now,
    date_sent: null,
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: call.form.From ?? null,
    messaging_service_sid: call.form.MessagingServiceSid ?? null,
    num_media: '0',
    num_segments: '1',
    price: null,
    price_unit: 'USD',
    status: call.form.MessagingServiceSid && !call.form.From ? 'accepted' : 'queued',
    subresource_uris: { media: `/2010-04-01/Accounts/${call.accountSid}/Messages/${sid}/Media.json` },
    to: call.form.To ?? null,
    uri: `/2010-04-01/Accounts/${call.accountSid}/Messages/${sid}.json`,
  };
}

/** One page of the Messages list, as Twilio answers GET Messages.json. */
function listPage(path: string, query: URLSearchParams, held: Record<string, unknown>[]): Record<string, unknown> {
  const sentAt = (m: Record<string, unknown>) => (m.date_sent ? Date.parse(String(m.date_sent)) : undefined);
  const day = (value: string) => Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  const filters: [string, (m: Record<string, unknown>, value: string) => boolean][] = [
    ['To', (m, v) => m.to === v],
    ['From', (m, v) => m.from === v],
    ['DateSent', (m, v) => sentAt(m) !== undefined && new Date(sentAt(m)!).toISOString().slice(0, 10) === v.slice(0, 10)],
    ['DateSent<', (m, v) => sentAt(m) !== undefined && sentAt(m)! <= day(v)],
    ['DateSent>', (m, v) => sentAt(m) !== undefined && sentAt(m)! >= day(v)],
  ];
  const matching = held
    .filter((m) => filters.every(([name, keep]) => !query.has(name) || keep(m, query.get(name)!)))
    .map((m, at) => ({ m, at }))
    // Not sent yet first (newest first), then by date sent, newest first.
    .sort((a, b) => (sentAt(b.m) ?? Infinity) - (sentAt(a.m) ?? Infinity) || b.at - a.at)
    .map(({ m }) => m);
  const pageSize = Math.min(Number(query.get('PageSize') ?? 50), 1000);
  const page = Number(query.get('Page') ?? 0);
  const items = matching.slice(page * pageSize, (page + 1) * pageSize);
  const uri = (n: number) => {
    const q = new URLSearchParams(query);
    q.set('PageSize', String(pageSize));
    q.set('Page', String(n));
    // Twilio's token is opaque; read only as a continuation of the page before.
    if (n > page) q.set('PageToken', `PA${String(items.at(-1)?.sid ?? '')}`);
    else q.delete('PageToken');
    return `${path}?${q.toString()}`;
  };
  return {
    messages: items,
    first_page_uri: uri(0),
    next_page_uri: (page + 1) * pageSize < matching.length ? uri(page + 1) : null,
    previous_page_uri: page > 0 ? uri(page - 1) : null,
    page,
    page_size: pageSize,
    start: page * pageSize,
    end: page * pageSize + Math.max(items.length - 1, 0),
    uri: `${path}?${query.toString()}`,
  };
}

function basicAuth(header: string | undefined): TwilioCall['auth'] {
  const encoded = /^Basic\s+(.+)$/i.exec(header ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const at = decoded.indexOf(':');
  return at === -1 ? undefined : { user: decoded.slice(0, at), password: decoded.slice(at + 1) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

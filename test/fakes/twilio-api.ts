/**
 * A small fake of Twilio's REST API on loopback: Twilio faked at the HTTP boundary. Point the
 * WhatsApp adapter at it with TWILIO_API_URL=fake.url. Every POST to
 * /2010-04-01/Accounts/{AccountSid}/Messages.json is recorded with its form body and answered
 * like Twilio (a message resource, status "queued"), unless a test scripts the answer with `on()`.
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
  delayMs?: number;
  /** Drop the connection without an answer (a connection error for the client). */
  hangUp?: boolean;
}

export type TwilioAnswerFn = (call: TwilioCall, nth: number) => TwilioAnswer | undefined;

export interface FakeTwilio {
  /** Base URL for TWILIO_API_URL, e.g. `http://127.0.0.1:PORT`. */
  url: string;
  /** Every Messages.json call, in order (refused ones included). */
  calls: TwilioCall[];
  /** The bodies of the calls, in order. */
  bodies(): string[];
  /** Script the answers; `nth` is the 0-based index of the call. Undefined falls back to success. */
  on(answer: TwilioAnswerFn): void;
  /** A Twilio-shaped error answer. */
  error(status: number, code: number, message: string): TwilioAnswer;
  reset(): void;
  close(): Promise<void>;
}

/** Start the fake on a free loopback port; `credentials` are the account SID and auth token it accepts. */
export async function startFakeTwilio(credentials: { accountSid: string; authToken: string }): Promise<FakeTwilio> {
  const calls: TwilioCall[] = [];
  let script: TwilioAnswerFn | undefined;
  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
    if (!match?.[1] || req.method !== 'POST') {
      reply(404, { code: 20404, message: `The requested resource ${path} was not found`, more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 });
      return;
    }
    const call: TwilioCall = { accountSid: match[1], form: Object.fromEntries(new URLSearchParams(raw)), at: Date.now(), auth: basicAuth(req.headers.authorization) };
    const nth = calls.length;
    calls.push(call);
    if (call.auth?.user !== credentials.accountSid || call.auth.password !== credentials.authToken || call.accountSid !== credentials.accountSid) {
      reply(401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
      return;
    }
    const answer = script?.(call, nth) ?? {};
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.hangUp) {
      res.socket?.destroy();
      return;
    }
    if (res.destroyed) return;
    reply(answer.status ?? 201, answer.body ?? messageResource(call), answer.headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    bodies: () => calls.map((c) => c.form.Body ?? ''),
    on: (answer) => void (script = answer),
    error: (status, code, message) => ({ status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } }),
    reset: () => {
      calls.length = 0;
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

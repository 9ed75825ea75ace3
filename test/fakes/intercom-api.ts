/**
 * A small fake of Intercom's REST API on loopback: Intercom faked at the HTTP boundary. Point the
 * adapter at it with INTERCOM_API_URL=fake.url. It serves what parley calls — GET /me,
 * GET /conversations/{id}, POST /conversations/{id}/reply, POST /conversations/{id}/parts
 * (assign, close…) — records every call, and answers like Intercom (the conversation, newest part
 * last; `error.list` errors). It remembers each conversation's assignees (`assign` sets them, as
 * an assignment part does) and the parts it took (replies, assignments), which GET
 * /conversations/{id} answers with, oldest first, as Intercom lists `conversation_parts`.
 *
 * A scripted 429 (the first reply is rate limited, later ones succeed):
 *
 *   fake.on('reply', (_call, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : undefined));
 *
 * A reply Intercom takes but answers too late (after the client gave up), or takes and then cuts:
 *
 *   fake.on('reply', (_call, n) => (n === 0 ? { delayMs: 2000 } : undefined));
 *   fake.on('reply', (_call, n) => (n === 0 ? { hangUp: true, taken: true } : undefined));
 *
 * Like Intercom, a call without `Authorization: Bearer …` is answered 401.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type IntercomRoute = 'me' | 'conversation' | 'reply' | 'parts' | 'team';

export interface IntercomCall {
  route: IntercomRoute | 'unknown';
  method: string;
  path: string;
  /** The conversation id in the path, for conversation, reply and parts. */
  conversationId?: string;
  body: Record<string, unknown>;
  headers: Record<string, string | undefined>;
  token?: string;
  at: number;
}

export interface FakeAnswer {
  status?: number;
  headers?: Record<string, string>;
  /** The JSON body; omitted → Intercom's answer for the status. */
  body?: unknown;
  /** Answer this late; a reply or part is taken at once all the same (Intercom took it, its answer is slow). */
  delayMs?: number;
  /** Drop the connection without an answer (after reading the whole request). */
  hangUp?: boolean;
  /** Whether a reply or part is taken: by default when the answer is a 200 (not hung up, not `raw`); set it for a hang-up after taking. */
  taken?: boolean;
  /** A body that is not JSON, answered as it is (text/html unless `headers` say): a proxy's page, so nothing is taken unless `taken`. */
  raw?: string | Buffer;
  /** Send the headers and the start of the body, then nothing more (the connection left open). */
  stallBody?: boolean;
}

export type FakeAnswerFn = (call: IntercomCall, nth: number) => FakeAnswer | undefined;

export interface FakeIntercom {
  /** The API base for INTERCOM_API_URL. */
  url: string;
  /** The admin GET /me names. */
  adminId: string;
  calls: IntercomCall[];
  callsTo(route: IntercomRoute): IntercomCall[];
  /** Override one route's answer; `nth` counts that route's calls from 0. Undefined → the default. */
  on(route: IntercomRoute, answer: FakeAnswerFn): void;
  /** The parts a conversation holds (replies and parts it took), oldest first, as GET /conversations/{id} lists them. */
  partsOf(conversationId: string): Record<string, unknown>[];
  /** Set who a conversation is assigned to (`null`: nobody), as Intercom's inbox would. */
  assign(conversationId: string, assignees: Partial<Assignees>): void;
  /** Clear recorded calls, overrides, assignees and parts. */
  reset(): void;
  close(): Promise<void>;
}

/** A conversation's assignees as Intercom answers them: an admin (a number) and a team (a string). */
export interface Assignees {
  admin_assignee_id: number | null;
  team_assignee_id: string | null;
}

export interface FakeIntercomOptions {
  adminId?: string;
  appId?: string;
  /** The teams GET /teams/{id} finds (default: any id). */
  teams?: string[];
  /** The loopback port to listen on (default: a free one). */
  port?: number;
}

/** Start the fake on a free loopback port. */
export async function startFakeIntercom(options: FakeIntercomOptions = {}): Promise<FakeIntercom> {
  const adminId = options.adminId ?? '991';
  const appId = options.appId ?? 'parleytest';
  const calls: IntercomCall[] = [];
  const overrides = new Map<IntercomRoute, FakeAnswerFn>();
  const assignees = new Map<string, Assignees>();
  const assigneesOf = (id = '') => assignees.get(id) ?? { admin_assignee_id: null, team_assignee_id: null };
  const parts = new Map<string, Record<string, unknown>[]>();
  const partsOf = (id = '') => parts.get(id) ?? [];
  let partCounter = 5_000_000;

  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const method = req.method ?? 'GET';
    const headers = flattenHeaders(req.headers);
    const match = /^\/conversations\/([^/]+)(?:\/(reply|parts))?$/.exec(path);
    const team = method === 'GET' ? /^\/teams\/([^/]+)$/.exec(path)?.[1] : undefined;
    const known = team !== undefined && (options.teams === undefined || options.teams.includes(decodeURIComponent(team)));
    const route: IntercomCall['route'] =
      method === 'GET' && path === '/me'
        ? 'me'
        : known
          ? 'team'
          : method === 'GET' && match && !match[2]
            ? 'conversation'
            : method === 'POST' && match?.[2]
              ? (match[2] as 'reply' | 'parts')
              : 'unknown';
    const call: IntercomCall = {
      route,
      method,
      path,
      conversationId: match?.[1] ? decodeURIComponent(match[1]) : undefined,
      body: parseJson(raw),
      headers,
      token: /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1],
      at: Date.now(),
    };
    const nth = calls.filter((c) => c.route === route).length;
    calls.push(call);

    const answer = (route !== 'unknown' ? overrides.get(route)?.(call, nth) : undefined) ?? {};
    let status = answer.status ?? 200;
    // Taken (or not) before the answer, however late it comes or whether it comes at all.
    const takes = call.token !== undefined && (route === 'reply' || route === 'parts') && (answer.taken ?? (!answer.hangUp && answer.raw === undefined && status === 200));
    const part = takes ? newPart(call, String(++partCounter)) : undefined;
    if (part) {
      parts.set(call.conversationId!, [...partsOf(call.conversationId), part]);
      if (route === 'parts' && call.body.message_type === 'assignment') assignees.set(call.conversationId!, assigned(assigneesOf(call.conversationId), call.body));
    }
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.hangUp) {
      res.socket?.destroy();
      return;
    }
    if (res.destroyed) return;
    if (answer.stallBody) return void res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': '1000' }).write('{"type":');
    if (answer.raw !== undefined) return void res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...answer.headers }).end(answer.raw);
    let body = answer.body;
    if (body === undefined) {
      if (!call.token) [status, body] = [401, errorList('unauthorized', 'Access Token Invalid')];
      else if (status !== 200) body = errorList(status === 429 ? 'rate_limit_exceeded' : status === 404 ? 'not_found' : 'server_error', `fake ${status}`);
      else if (route === 'unknown') [status, body] = [404, errorList('not_found', 'Resource Not Found')];
      else body = defaultAnswer(call, { adminId, appId }, assigneesOf(call.conversationId), part ? [part] : partsOf(call.conversationId));
    }
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    adminId,
    calls,
    callsTo: (route) => calls.filter((c) => c.route === route),
    on: (route, answer) => void overrides.set(route, answer),
    partsOf,
    assign: (conversationId, set) => void assignees.set(conversationId, { ...assigneesOf(conversationId), ...set }),
    reset: () => {
      calls.length = 0;
      overrides.clear();
      assignees.clear();
      parts.clear();
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Identity {
  adminId: string;
  appId: string;
}

/** The assignees after an assignment part: `assignee_id` "0" unassigns. */
function assigned(before: Assignees, body: Record<string, unknown>): Assignees {
  const id = String(body.assignee_id ?? '');
  if (body.type === 'team') return { ...before, team_assignee_id: id === '0' ? null : id };
  return { ...before, admin_assignee_id: id === '0' ? null : Number(id) };
}

/**
 * Intercom's answer for a successful call, with the fields a client reads: a reply or part is
 * answered with the conversation holding the new part, GET /conversations/{id} with all it holds.
 */
function defaultAnswer(call: IntercomCall, me: Identity, assignees: Assignees, parts: Record<string, unknown>[]): unknown {
  if (call.route === 'me') {
    return {
      type: 'admin',
      id: me.adminId,
      email: 'bot@parley.example',
      name: 'Parley Bot',
      email_verified: true,
      app: { type: 'app', id_code: me.appId, name: 'Parley Test', created_at: 1_700_000_000, secure: false, identity_verification: false, timezone: 'Europe/London', region: 'US' },
      avatar: { type: 'avatar', image_url: null },
      has_inbox_seat: true,
    };
  }
  if (call.route === 'team') return { type: 'team', id: call.path.split('/').pop(), name: 'Support', admin_ids: [] };
  const now = Math.floor(Date.now() / 1000);
  return {
    type: 'conversation',
    id: call.conversationId,
    created_at: now - 60,
    updated_at: now,
    state: 'open',
    open: true,
    read: true,
    ...assignees,
    conversation_parts: { type: 'conversation_part.list', conversation_parts: parts, total_count: parts.length },
  };
}

/** The part a reply (a comment, a note) or a POST …/parts (an assignment, a close…) makes. */
function newPart(call: IntercomCall, id: string): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const body = call.body;
  return {
    type: 'conversation_part',
    id,
    part_type: call.route === 'reply' ? String(body.message_type ?? 'comment') : String(body.message_type ?? 'assignment'),
    body: typeof body.body === 'string' ? body.body : null,
    created_at: now,
    updated_at: now,
    notified_at: now,
    assigned_to: body.message_type === 'assignment' ? { type: String(body.type ?? 'admin'), id: String(body.assignee_id ?? '') } : null,
    author: { type: 'admin', id: String(body.admin_id ?? ''), name: 'Parley Bot', email: 'bot@parley.example' },
    attachments: [],
    external_id: null,
    redacted: false,
  };
}

function errorList(code: string, message: string) {
  return { type: 'error.list', request_id: `req_${Math.random().toString(36).slice(2)}`, errors: [{ code, message }] };
}

function parseJson(raw: string): Record<string, unknown> {
  if (raw === '') return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
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

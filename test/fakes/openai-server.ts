/**
 * A small OpenAI-compatible server on loopback: the AI faked at the HTTP boundary. Each call to
 * /v1/chat/completions is recorded and answered by the current script.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatCall {
  at: number;
  /** The bearer key the call came with. */
  key: string;
  /** Refused with a 401 (the key is not in `acceptKeys`); the script did not answer it. */
  refused?: boolean;
  body: { model: string; messages: { role: string; content: unknown }[]; stream?: boolean };
  /** When the answer was written (Date.now()); `answeredAt - at` is the time spent inside the fake. */
  answeredAt?: number;
}

export interface ScriptedAnswer {
  status?: number;
  headers?: Record<string, string>;
  /** The assistant's text for a 200 (default: "echo: <last user message>"). */
  text?: string;
  /** A raw body instead (errors). */
  body?: unknown;
  delayMs?: number;
  /** Answer only once this settles: the test decides when the model is done (after delayMs, if both). */
  hold?: Promise<unknown>;
  /** Streamed answers: the connection breaks after this many characters of the text. */
  breakAfterChars?: number;
  /** The usage reported (default: 12 prompt and 5 completion tokens), as a misbehaving server may get it wrong. */
  usage?: unknown;
  /** A streamed answer's `data:` lines exactly as given (malformed ones, error events), then the end of the body. */
  events?: string[];
  /**
   * The answer's finish_reason: the non-streamed body's (default "stop"), a stream's last choice
   * chunk (default: none). "content_filter" with text "" is a provider's filter withholding the answer.
   */
  finishReason?: string;
}

export type Script = (call: ChatCall, index: number) => ScriptedAnswer;

export interface FakeOpenAi {
  /** Base URL for OPENAI_BASE_URL (ends in /v1). */
  url: string;
  calls: ChatCall[];
  /** Replace how calls are answered. */
  script(next: Script): void;
  close(): Promise<void>;
}

/** The user text of a call's last message. */
export function lastUserText(call: ChatCall): string {
  const last = [...call.body.messages].reverse().find((m) => m.role === 'user');
  return typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content);
}

const echo: Script = (call) => ({ text: `echo: ${lastUserText(call)}` });

export interface FakeOpenAiOptions {
  /** Only these keys are let in; any other gets OpenAI's 401 invalid_api_key. Default: any key. */
  acceptKeys?: string[];
  /**
   * Listen on the first of these ports that is free (default: any free port). Only for a test that
   * needs a particular port (fetch's blocked ports): fixed ports collide when test files run at once.
   */
  ports?: number[];
}

/** Start the fake on a free port. */
export async function startFakeOpenAi(initial: Script = echo, options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  let script = initial;
  const calls: ChatCall[] = [];
  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const refused = options.acceptKeys !== undefined && !options.acceptKeys.includes(key);
    if (req.method === 'GET' && req.url?.endsWith('/models') && !refused) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 0, owned_by: 'fake' }] }));
      return;
    }
    const chat = req.method === 'POST' && req.url?.endsWith('/chat/completions');
    if (chat && refused) calls.push({ at: Date.now(), key, refused, body: JSON.parse(raw) as ChatCall['body'] });
    if (refused) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify(invalidApiKey(key)));
      return;
    }
    if (!chat) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }
    const call: ChatCall = { at: Date.now(), key, body: JSON.parse(raw) as ChatCall['body'] };
    calls.push(call);
    const answer = script(call, calls.length - 1);
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.hold) await answer.hold;
    if (res.destroyed) return;
    const status = answer.status ?? 200;
    call.answeredAt = Date.now();
    if (status === 200 && call.body.stream && answer.events) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(answer.events.map((line) => `data: ${line}\n\n`).join(''));
      return;
    }
    if (status === 200 && call.body.stream && !answer.body) {
      streamCompletion(res, call.body.model, answer.text ?? `echo: ${lastUserText(call)}`, answer.breakAfterChars, answer.usage, answer.finishReason);
      return;
    }
    const body =
      answer.body ??
      (status === 200
        ? completion(call.body.model, answer.text ?? `echo: ${lastUserText(call)}`, answer.usage, answer.finishReason)
        : { error: { message: `fake error ${status}`, type: 'server_error' } });
    res.writeHead(status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(body));
  });
  await listenOnFirstFree(server, options.ports ?? [0]);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    calls,
    script: (next) => (script = next),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** OpenAI's answer to a wrong key, which quotes the key's ends: what a log must never show. */
function invalidApiKey(key: string) {
  const quoted = `${key.slice(0, 3)}${'*'.repeat(Math.max(0, key.length - 7))}${key.slice(-4)}`;
  return {
    error: {
      message: `Incorrect API key provided: ${quoted}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    },
  };
}

const defaultUsage = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 };

function completion(model: string, text: string, usage: unknown = defaultUsage, finishReason = 'stop') {
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    // A filtered answer's content is null when nothing of it was given (Azure OpenAI).
    choices: [{ index: 0, message: { role: 'assistant', content: text === '' && finishReason === 'content_filter' ? null : text }, finish_reason: finishReason }],
    usage,
  };
}

/** Server-sent events as the real API streams them: a few content deltas, usage, [DONE]. */
function streamCompletion(res: import('node:http').ServerResponse, model: string, text: string, breakAfterChars?: number, usage: unknown = defaultUsage, finishReason?: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
  const chunk = (delta: object, extra: object = {}) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model, choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
  res.write(chunk({ role: 'assistant', content: '' }));
  let written = 0;
  for (const piece of text.match(/.{1,6}/gs) ?? []) {
    if (breakAfterChars !== undefined && written >= breakAfterChars) {
      setTimeout(() => res.destroy(), 20); // what was written reaches the client first
      return;
    }
    res.write(chunk({ content: piece }));
    written += piece.length;
  }
  if (finishReason) res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 0, model, choices: [{ index: 0, delta: {}, finish_reason: finishReason }] })}\n\n`);
  res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 0, model, choices: [], usage })}\n\n`);
  res.end('data: [DONE]\n\n');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function listenOnFirstFree(server: Server, ports: number[]): Promise<void> {
  for (const [i, port] of ports.entries()) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || i === ports.length - 1) throw error;
    }
  }
}

/**
 * A small OpenAI-compatible HTTP server for tests: real sockets, so timeouts, aborts and
 * concurrency behave as they do in production. Responses are scripted per request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: {
    model: string;
    messages: Array<{ role: string; content: unknown }>;
    stream?: boolean;
    stream_options?: unknown;
    max_tokens?: number;
    max_completion_tokens?: number;
  };
  at: number;
}

export type Handler = (res: ServerResponse, req: RecordedRequest) => void;

export class FakeOpenAI {
  readonly requests: RecordedRequest[] = [];
  /** Requests being answered right now, and the most seen at once. */
  active = 0;
  maxActive = 0;
  /** Responses whose connection closed before the server had ended them (the client dropped it). */
  dropped = 0;
  /** Intervals [start, end] of each answered request, to prove calls never overlapped. */
  readonly spans: Array<[number, number]> = [];
  private readonly script: Handler[] = [];
  private fallback: Handler = json(200, completion('default'));
  private server: Server | undefined;
  private port = 0;

  /** Handlers for the next requests, in order; when they run out, the fallback answers. */
  enqueue(...handlers: Handler[]): this {
    this.script.push(...handlers);
    return this;
  }

  otherwise(handler: Handler): this {
    this.fallback = handler;
    return this;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const recorded: RecordedRequest = {
          path: req.url ?? '',
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as RecordedRequest['body'],
          at: Date.now(),
        };
        this.requests.push(recorded);
        this.active++;
        this.maxActive = Math.max(this.maxActive, this.active);
        const start = performance.now();
        res.on('close', () => {
          this.active--;
          if (!res.writableEnded) this.dropped++;
          this.spans.push([start, performance.now()]);
        });
        (this.script.shift() ?? this.fallback)(res, recorded);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** A chat.completion body as OpenAI sends it. */
export function completion(text: string, usage = { prompt_tokens: 10, completion_tokens: 5 }, model = 'gpt-4o-mini-2024-07-18') {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (res) => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
}

/** An OpenAI-style error response. */
export function error(status: number, headers: Record<string, string> = {}): Handler {
  return json(status, { error: { message: `fake ${status}`, type: 'test_error', code: null, param: null } }, headers);
}

export function delayed(ms: number, handler: Handler): Handler {
  return (res, req) => {
    const timer = setTimeout(() => handler(res, req), ms);
    res.on('close', () => clearTimeout(timer));
  };
}

/** A streamed completion: one SSE event per delta, then a usage chunk and [DONE]. */
export function sse(deltas: string[], usage = { prompt_tokens: 7, completion_tokens: 3 }, gapMs = 0): Handler {
  return (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const base = { id: 'chatcmpl-s', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini-2024-07-18' };
    const events = [
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      ...deltas.map((content) => ({ ...base, choices: [{ index: 0, delta: { content }, finish_reason: null }] })),
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { ...base, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } },
    ];
    let i = 0;
    const next = () => {
      if (res.destroyed) return;
      const event = events[i++];
      if (!event) {
        res.end('data: [DONE]\n\n');
        return;
      }
      res.write(`data: ${JSON.stringify(event)}\n\n`);
      if (gapMs > 0) setTimeout(next, gapMs);
      else next();
    };
    next();
  };
}

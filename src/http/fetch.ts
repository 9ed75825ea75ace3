/**
 * The Web `Request → Response` handler for Hono, Next.js route handlers, Bun, Deno and serverless.
 */
import { HttpError, type HttpRequest, type HttpResponse } from '../adapter.js';
import { BodyTooLargeError, ClientClosedError, bodyAlreadyRead, readLimited } from './body.js';
import type { Router } from './router.js';
import { requestUrl, routePath, type UrlOptions } from './url.js';

/** What the platform knows about the connection that a Request does not carry. */
export interface FetchInfo {
  remoteAddress?: string;
}

/**
 * The second argument is optional and loosely typed on purpose: platforms pass their own
 * objects there (Cloudflare's env, Bun's server, Hono's bindings); only a string
 * `remoteAddress` in it is read.
 */
export type FetchHandler = (request: Request, info?: FetchInfo | unknown) => Promise<Response>;

export interface FetchOptions extends UrlOptions {
  bodyLimitBytes: number;
  /** How long the body may take to arrive once parley reads it (REQUEST_TIMEOUT_MS): 408 past it. */
  requestTimeoutMs?: number | undefined;
}

/**
 * Answer parley's routes; anything else gets the router's 404, with its request line and
 * X-Request-Id (route only parley's paths to it).
 */
export function createFetchHandler(router: Router, options: FetchOptions): FetchHandler {
  return async (request, info) => {
    // Only a close before the Response is handed back counts: runtimes differ on when their signal
    // fires after that, and a reply taken as answered must not be posted as well. Made when first
    // asked for (only direct mode asks: the ack path pays nothing for it).
    let closed: AbortController | undefined;
    const forward = () => closed?.abort();
    const signal = () => {
      if (!closed) {
        closed = new AbortController();
        if (request.signal.aborted) forward();
        else request.signal.addEventListener('abort', forward, { once: true });
      }
      return closed.signal;
    };
    try {
      return await answer(router, options, request, info, signal);
    } finally {
      if (closed) request.signal.removeEventListener('abort', forward);
    }
  };
}

async function answer(router: Router, options: FetchOptions, request: Request, info: unknown, signal: () => AbortSignal): Promise<Response> {
  const url = new URL(request.url);
  const headers: Record<string, string> = { host: url.host };
  request.headers.forEach((value, name) => (headers[name] = value));
  const path = routePath(url.pathname, options);
  const ours = (body: Buffer): HttpRequest => ({
    method: request.method,
    url: requestUrl(url.pathname + url.search, headers, url.protocol === 'https:', options),
    path,
    headers,
    body,
    remoteAddress: remoteAddressOf(info),
    get signal() {
      return signal();
    },
  });
  let body: Buffer = Buffer.alloc(0);
  if (router.wantsBody(request.method, path) && request.body) {
    try {
      if (request.bodyUsed) {
        throw bodyAlreadyRead('Hand the request to parley before reading its body (c.req.json(), request.text()), or hand it request.clone().');
      }
      body = await readLimited(request.body, options.bodyLimitBytes, request.headers.get('content-length'), options.requestTimeoutMs);
    } catch (error) {
      // As on Node: an info line and the request line, not a stack thrown to the host framework. The
      // 400 it answers has no one to read it.
      if (clientWentAway(error, request)) return toResponse(await router.handle(ours(Buffer.alloc(0)), new ClientClosedError()), request.method);
      // Read the rest behind the answer, so a server in front of us does not reset a client still sending.
      if (error instanceof BodyTooLargeError) void error.drain();
      // The router answers it as a refusal of its route: logged, counted, with the adapter's headers.
      // A stream that failed otherwise (its source broke) is one too, not an error thrown to the host.
      const refused = error instanceof HttpError ? error : new HttpError(400, 'unreadable_body', 'The request body could not be read: its stream failed.');
      return toResponse(await router.handle(ours(Buffer.alloc(0)), refused), request.method);
    }
  }
  return toResponse(await router.handle(ours(body)), request.method);
}

function toResponse(response: HttpResponse, method: string): Response {
  if (response.stream) {
    const iterator = response.stream[Symbol.asyncIterator]();
    // A HEAD gets the headers alone: the stream, never read by the runtime, would hold its slot.
    if (method === 'HEAD') {
      void iterator.return?.();
      return new Response(null, { status: response.status, headers: response.headers });
    }
    const encoder = new TextEncoder();
    // Pulled as the client takes it: one that takes nothing for stallTimeoutMs is gone, and its stream ends.
    let stalled: ReturnType<typeof setTimeout> | undefined;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        clearTimeout(stalled);
        const next = await iterator.next();
        if (next.done) return controller.close();
        controller.enqueue(encoder.encode(next.value));
        if (response.stallTimeoutMs === undefined || (controller.desiredSize ?? 1) > 0) return;
        stalled = setTimeout(() => {
          controller.error(new Error('The client took nothing for stallTimeoutMs: taken for gone.'));
          void iterator.return?.();
        }, response.stallTimeoutMs);
      },
      async cancel() {
        clearTimeout(stalled);
        await iterator.return?.();
      },
    });
    return new Response(stream, { status: response.status, headers: response.headers });
  }
  const body = typeof response.body === 'string' || response.body === undefined ? response.body : new Uint8Array(response.body);
  return new Response(body, { status: response.status, headers: response.headers });
}

/**
 * A body read cut off by the client: Node's "aborted" (ECONNRESET, as @hono/node-server passes it
 * on), a premature close, or a runtime that aborts the request's signal or the read.
 */
function clientWentAway(error: unknown, request: Request): boolean {
  if (error instanceof HttpError) return false;
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || name === 'AbortError' || request.signal.aborted;
}

function remoteAddressOf(info: unknown): string | undefined {
  const address = (info as FetchInfo | undefined)?.remoteAddress;
  return typeof address === 'string' ? address : undefined;
}

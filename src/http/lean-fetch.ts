/**
 * The fetch parley gives the SDKs (OpenAI, Slack's WebClient) for their small JSON calls: the
 * AI's answer, chat.postMessage, a status. node:http with a keep-alive agent and the answer read
 * whole costs about half the CPU of the global fetch per call (undici's web streams, abort
 * signals and Request objects), and those calls are most of a message's CPU. What it does not
 * handle — a streamed answer, a form, a body it cannot send as is — goes to the global fetch.
 * Failures look as the global fetch's do: TypeError("fetch failed") with the cause, or the
 * signal's reason when aborted, so the SDKs classify them the same way. The answer is a
 * LeanResponse: it has Response's whole interface, but is not `instanceof Response`.
 * It stops reading an answer larger than MAX_ANSWER_BYTES, as sent and once decompressed (a proxy's
 * download, a gzip bomb would otherwise take the process's memory); `leanFetchUpTo(bytes)` at a
 * lower bound (the AI's: a server sending without end would otherwise be buffered until the
 * attempt's timeout). The call fails as a connection cut mid-answer does: the request went out.
 */
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import { LeanResponse } from './lean-response.js';

const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

type Body = string | Uint8Array | undefined;

/** The most of an answer leanFetch reads: the SDKs' answers are kilobytes (a page of a thread's messages a few megabytes). */
export const MAX_ANSWER_BYTES = 64 * 2 ** 20;
/** The `code` of ResponseTooLargeError, for adapters that read it off the cause of "fetch failed". */
export const ANSWER_TOO_LARGE = 'PARLEY_ANSWER_TOO_LARGE';

/** An answer larger than the fetch reads (the cause of its TypeError "fetch failed"). */
export class ResponseTooLargeError extends Error {
  readonly code = ANSWER_TOO_LARGE;
  constructor(readonly maxBytes: number) {
    super(`the answer was larger than ${maxBytes % 2 ** 20 === 0 ? `${maxBytes / 2 ** 20} MiB` : `${maxBytes} bytes`}: stopped reading it`);
    this.name = 'ResponseTooLargeError';
  }
}

export const leanFetch: typeof fetch = (input, init) => fetchLean(input, init, MAX_ANSWER_BYTES);

/** leanFetch that fails an answer larger than `maxBytes` (decompressed too) as soon as it is. */
export function leanFetchUpTo(maxBytes: number): typeof fetch {
  return (input, init) => fetchLean(input, init, maxBytes);
}

function fetchLean(input: Parameters<typeof fetch>[0], init: RequestInit | undefined, maxBytes: number): Promise<Response> {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined;
  const body = sendable(init?.body);
  if (url === undefined || body === false) return fetch(input, init);
  const headers = headerRecord(init?.headers);
  if (isStreamed(body, headers)) return fetch(input, init);
  const target = new URL(url);
  const agent = agents[target.protocol as keyof typeof agents];
  if (!agent) return fetch(input, init);
  return request(target, agent, init ?? {}, headers, body, maxBytes);
}

function request(target: URL, agent: http.Agent, init: RequestInit, headers: Record<string, string>, body: Body, maxBytes: number): Promise<Response> {
  const signal = init.signal ?? undefined;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const send = target.protocol === 'https:' ? https.request : http.request;
    // As the global fetch does for a form.
    if (init.body instanceof URLSearchParams) headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    const req = send(target, { method: init.method ?? 'GET', headers, agent, ...(signal ? { signal } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received <= maxBytes) {
          chunks.push(chunk);
        } else {
          // The socket goes too: the rest of the answer is never read.
          req.destroy();
          fail(new ResponseTooLargeError(maxBytes));
        }
      });
      res.on('error', fail);
      res.on('end', () => {
        let bytes: Buffer;
        try {
          bytes = decoded(Buffer.concat(chunks), res.headers['content-encoding'], maxBytes);
        } catch (error) {
          // A small compressed body can grow past the limit (a gzip bomb).
          return fail((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE' ? new ResponseTooLargeError(maxBytes) : error);
        }
        const status = res.statusCode ?? 0;
        const answered = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (Array.isArray(value)) for (const one of value) answered.append(name, one);
          else if (value !== undefined) answered.set(name, value);
        }
        const empty = status === 204 || status === 304 || init.method === 'HEAD';
        resolve(new LeanResponse(empty ? null : bytes, status, res.statusMessage ?? '', answered, target.href));
      });
    });
    function fail(error: unknown): void {
      reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
    }
    req.on('error', fail);
    req.end(body);
  });
}

/**
 * The body as the global fetch hands it over: decompressed when the server says it is compressed
 * (some gateways compress whatever the request's Accept-Encoding, which node:http does not send).
 * One that does not decode (a proxy's plain error page labelled gzip) is handed over as it came:
 * failing the call instead would lose a 429's status and Retry-After, which the global fetch keeps.
 */
function decoded(body: Buffer, encoding: string | undefined, maxBytes: number): Buffer {
  if (body.length === 0 || !encoding) return body;
  const limit = { maxOutputLength: maxBytes };
  let decoding = body;
  try {
    // Applied in the reverse order of the header's list, as fetch does.
    for (const coding of encoding.toLowerCase().split(',').map((c) => c.trim()).reverse()) {
      if (coding === 'gzip' || coding === 'x-gzip') decoding = zlib.gunzipSync(decoding, { finishFlush: zlib.constants.Z_SYNC_FLUSH, ...limit });
      else if (coding === 'deflate') decoding = decoding[0] !== undefined && (decoding[0] & 0x0f) === 8 ? zlib.inflateSync(decoding, limit) : zlib.inflateRawSync(decoding, limit);
      else if (coding === 'br') decoding = zlib.brotliDecompressSync(decoding, limit);
    }
    return decoding;
  } catch (error) {
    // Past the limit (a gzip bomb) is the caller's to fail; anything else is a body that is not what it says.
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw error;
    return body;
  }
}

/** The body as node:http sends it, or false when only the global fetch can. */
function sendable(body: RequestInit['body']): Body | false {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof URLSearchParams) return body.toString();
  return false;
}

/** A streamed answer (server-sent events) is read as it comes: the global fetch does that. */
function isStreamed(body: Body, headers: Record<string, string>): boolean {
  if (typeof body === 'string' && /"stream"\s*:\s*true/.test(body)) return true;
  return headers.accept?.includes('event-stream') === true;
}

/** The request's headers as node:http takes them: lower-case names, repeated ones joined as Headers joins them. */
function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const record: Record<string, string> = {};
  if (headers === undefined) return record;
  if (headers instanceof Headers) {
    headers.forEach((value, name) => (record[name] = value));
    return record;
  }
  const entries = Array.isArray(headers) ? headers : Object.entries(headers);
  for (const [name, value] of entries) {
    if (name === undefined || value === undefined) continue;
    const key = name.toLowerCase();
    record[key] = key in record ? `${record[key]}, ${value}` : String(value);
  }
  return record;
}

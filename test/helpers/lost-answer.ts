/**
 * A local HTTP proxy in front of an AWS endpoint that loses one answer: the first request that
 * `picks` forwarded and applied, its answer held back past the client's per-attempt timeout, so
 * the SDK sends the request again — what a loaded machine or a slow network does to a call that
 * DynamoDB did apply. Or, with `fails`, answered with DynamoDB's 500 InternalServerError ("may or
 * may not have succeeded") or a reset connection, which the SDK retries as well. Every other
 * request is forwarded as it comes.
 */
import { createServer, request, type IncomingHttpHeaders } from 'node:http';

export interface LostAnswerProxy {
  /** http://127.0.0.1:<port>: the endpoint to give the client under test */
  url: string;
  /** The requests `picks` chose, in order: the lost one first, then the SDK's retries of it. */
  picked: string[];
  close(): Promise<void>;
}

export interface LostAnswerOptions {
  /** The request whose answer is lost (the first one this returns true for). */
  picks(body: string, headers: IncomingHttpHeaders): boolean;
  /** How long the lost answer is held back (longer than the client's per-attempt timeout). */
  holdMs?: number;
  /** Instead of holding it back, answer the applied request with a 500 InternalServerError or reset the connection. */
  fails?: '500' | 'reset';
  /** Run once the lost request was applied, before any later request is forwarded: another writer, say. */
  afterApplied?: () => Promise<void>;
}

export async function startLostAnswerProxy(target: string, options: LostAnswerOptions): Promise<LostAnswerProxy> {
  const picked: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const pick = options.picks(body.toString(), incoming.headers);
      if (pick) picked.push(body.toString());
      const lose = pick && picked.length === 1;
      const forwarded = lose ? forward(target, incoming.method ?? 'POST', incoming.url ?? '/', incoming.headers, body) : gate.then(() => forward(target, incoming.method ?? 'POST', incoming.url ?? '/', incoming.headers, body));
      if (lose) gate = forwarded.then(async () => options.afterApplied?.());
      void forwarded
        .then(async (answer) => {
          outgoing.on('error', () => undefined);
          if (lose && options.fails === 'reset') return void outgoing.socket?.destroy();
          if (lose && options.fails === '500') return void outgoing.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' }).end(INTERNAL_SERVER_ERROR);
          if (lose) await new Promise((resolve) => setTimeout(resolve, options.holdMs ?? 0));
          outgoing.writeHead(answer.status, answer.headers).end(answer.body);
        })
        .catch(() => outgoing.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    picked,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const INTERNAL_SERVER_ERROR = JSON.stringify({ __type: 'com.amazon.coral.service#InternalServerError', message: 'Internal server error' });

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Send a request on to `target` as it came; its answer, whole. */
export function forward(target: string, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const to = new URL(path, target);
    const req = request(to, { method, headers: { ...headers, host: to.host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The receiving end of the HTTP callback example adapter, on loopback: records every reply part
 * POSTed to it and answers with the current script (200 `{"id"}` by default).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CallbackCall {
  at: number;
  headers: IncomingHttpHeaders;
  raw: string;
  body: { conversation: string; text: string; part: number; parts: number; kind: string };
}

export interface CallbackAnswer {
  status?: number;
  headers?: Record<string, string>;
}

export interface FakeCallback {
  url: string;
  calls: CallbackCall[];
  /** Answer call number `n` (0-based, counting every call) differently; undefined = 200. */
  script(next: (call: CallbackCall, n: number) => CallbackAnswer | undefined): void;
  close(): Promise<void>;
}

export async function startFakeCallback(): Promise<FakeCallback> {
  const calls: CallbackCall[] = [];
  let script: (call: CallbackCall, n: number) => CallbackAnswer | undefined = () => undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const call: CallbackCall = { at: Date.now(), headers: req.headers, raw, body: JSON.parse(raw) as CallbackCall['body'] };
      calls.push(call);
      const answer = script(call, calls.length - 1);
      if (answer) {
        res.writeHead(answer.status ?? 200, answer.headers ?? {}).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `msg-${calls.length}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/replies`,
    calls,
    script(next) {
      script = next;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

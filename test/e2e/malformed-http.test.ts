/**
 * Requests that break before parley's routes see them, on a real listening server: what Node's HTTP
 * parser refuses (headers too large, an unknown method, a malformed request line) gets a JSON error
 * and a log line, and a client that hangs up half-way through its body is an info line, not an
 * "unhandled error" with a stack. The server keeps serving either way.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

type Line = { level: number; msg: string; status?: number; code?: string; path?: string };
const lines: Line[] = [];
let web: WebBot;
let port: number;

beforeAll(async () => {
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  web = await startWebBot({}, { logger });
  port = Number(new URL(web.url).port);
});
afterAll(async () => {
  await web.close();
});

/** Send raw bytes on a fresh connection; resolves with everything the server wrote back before closing. */
async function raw(request: string, { hangUp = false } = {}): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.write(request);
  if (hangUp) {
    await new Promise((resolve) => setTimeout(resolve, 50)); // the server has started reading the body
    socket.destroy();
    return '';
  }
  await once(socket, 'close');
  return Buffer.concat(received).toString('latin1');
}

const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };

describe('requests Node cannot parse', () => {
  it('headers too large: 431 with a JSON error and a warning', async () => {
    const answer = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Foo: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(answer).error.code).toBe('headers_too_large');
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'refused a request Node could not parse', status: 431, code: 'HPE_HEADER_OVERFLOW' }));
  });

  it('an unknown method or a malformed request line: 400 with a JSON error and a warning', async () => {
    for (const request of ['FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n']) {
      const answer = await raw(request);
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(bodyOf(answer).error.code).toBe('bad_request');
    }
    expect(lines.filter((line) => line.msg === 'refused a request Node could not parse' && line.status === 400)).toHaveLength(2);
    expect((await fetch(`${web.url}/healthz`)).status).toBe(200);
  });
});

describe('a request parsed, then bytes that are not HTTP on the same connection (pipelined)', () => {
  it('the request is answered first, then the bytes get their 400 (the connection was dropped with the message taken and its 202 never sent)', async () => {
    const { token } = (await (await fetch(`${web.url}/web/sessions`, { method: 'POST' })).json()) as { token: string };
    const body = JSON.stringify({ text: 'taken, then junk' });
    const answer = await raw(`POST /web/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}NOT HTTP\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 202 /);
    const refusal = answer.slice(answer.indexOf('HTTP/1.1 400 '));
    expect(refusal).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(refusal).error.code).toBe('bad_request');
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'refused a request Node could not parse', code: 'HPE_INVALID_METHOD' }));
  });
});

describe('an Expect header other than 100-continue', () => {
  it('is a 417 with a JSON error and a warning (Node alone answers an empty 417 and logs nothing)', async () => {
    const answer = await raw('POST /web/messages HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
    expect(answer).toMatch(/^HTTP\/1\.1 417 /);
    expect(bodyOf(answer).error.code).toBe('expectation_failed');
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'refused a request with an Expect header other than 100-continue', status: 417 }));
    expect((await fetch(`${web.url}/healthz`)).status).toBe(200);
  });
});

describe('CONNECT', () => {
  it('is a 405 with a JSON error and a warning (Node alone drops the connection unanswered)', async () => {
    for (const request of ['CONNECT /slack/events HTTP/1.1\r\nHost: x\r\n\r\n', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n']) {
      const answer = await raw(request);
      expect(answer).toMatch(/^HTTP\/1\.1 405 /);
      expect(bodyOf(answer).error.code).toBe('method_not_allowed');
    }
    expect(lines.filter((line) => line.msg === 'refused a CONNECT request' && line.status === 405)).toHaveLength(2);
    expect((await fetch(`${web.url}/healthz`)).status).toBe(200);
  });

  it('a client that resets the connection after the 405 leaves the server serving (no uncaught socket error)', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      await once(socket, 'connect');
      socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
      await once(socket, 'data');
      socket.resetAndDestroy();
      await new Promise((resolve) => setTimeout(resolve, 200)); // the reset reaches the server's socket
      expect(uncaught).toEqual([]);
      expect((await fetch(`${web.url}/healthz`)).status).toBe(200);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});

describe('an HTTP/1.1 request without a Host header', () => {
  it('is a 400 with a JSON error and a warning (Node alone answers an empty 400 and logs nothing); HTTP/1.0 needs none', async () => {
    const answer = await raw('POST /web/messages HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(answer).error.code).toBe('missing_host');
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'refused an HTTP/1.1 request without a Host header', status: 400 }));
    expect(await raw('GET /healthz HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('a client that hangs up half-way through its body', () => {
  it('is an info line, not an unhandled error, and nothing is taken', async () => {
    for (const framing of ['Transfer-Encoding: chunked\r\n\r\n10\r\n{"text":"abc","c', 'Content-Length: 500\r\n\r\n{"conversation":"gone","text":"half']) {
      await raw(`POST /web/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${framing}`, { hangUp: true });
    }
    await until(() => (lines.filter((line) => line.msg.startsWith('the client closed the connection')).length === 2 ? true : undefined), 'both hang-ups logged');
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(lines.find((line) => line.msg.startsWith('the client closed the connection'))).toMatchObject({ level: 30, path: '/web/messages' });
    expect((await fetch(`${web.url}/healthz`)).status).toBe(200);
  });

  it('one that half-closes (FIN, still reading) is the same info line, not also a warning that Node could not parse it', async () => {
    const before = lines.length;
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.on('data', () => undefined);
    socket.end('POST /web/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"conversation":"gone","text":"half');
    await once(socket, 'close');
    await until(() => (lines.slice(before).some((line) => line.msg.startsWith('the client closed the connection')) ? true : undefined), 'the hang-up logged');
    expect(lines.slice(before).filter((line) => line.level >= 40)).toEqual([]);
  });

  it('one that half-closes mid-headers (the router never saw it) still gets its 400 and a warning', async () => {
    const before = lines.length;
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.end('POST /web/messages HTTP/1.1\r\nHost: x\r\nContent-Ty');
    await once(socket, 'close');
    expect(Buffer.concat(received).toString('latin1')).toMatch(/^HTTP\/1\.1 400 /);
    expect(lines.slice(before)).toContainEqual(expect.objectContaining({ level: 40, msg: 'refused a request Node could not parse', code: 'HPE_INVALID_EOF_STATE' }));
  });

  it('a pipelined request cut off mid-headers while the one before is still answered (an event stream) is a warning too, and no 400 lands inside that answer', async () => {
    const { token } = (await (await fetch(`${web.url}/web/sessions`, { method: 'POST' })).json()) as { token: string };
    const posted = await fetch(`${web.url}/web/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"text":"hi"}' });
    const { conversation } = (await posted.json()) as { conversation: string };
    const stream = `GET /web/conversations/${conversation}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`;
    for (const [next, code] of [['POST /web/messages HTTP/1.1\r\nHost: x\r\nContent-Ty', 'HPE_INVALID_EOF_STATE'], ['FOO / HTTP/1.1\r\nHost: x\r\n\r\n', 'HPE_INVALID_METHOD']] as const) {
      const before = lines.length;
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.write(stream);
      await once(socket, 'data'); // the stream's answer is under way
      if (code === 'HPE_INVALID_EOF_STATE') socket.end(next);
      else socket.write(next);
      await once(socket, 'close');
      expect(Buffer.concat(received).toString('latin1')).not.toMatch(/HTTP\/1\.1 400 /);
      expect(lines.slice(before)).toContainEqual(expect.objectContaining({ level: 40, msg: 'refused a request Node could not parse', code }));
    }
  });
});

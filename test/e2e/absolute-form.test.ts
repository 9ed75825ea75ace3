/**
 * A request line in absolute form (`GET http://host/healthz HTTP/1.1`), which servers must accept
 * (RFC 9112, 3.2.2) and some proxies send: routed on its path, as Express and Bolt's receiver do,
 * not answered 404.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebBot, type WebBot } from '../helpers/web-bot.js';

let web: WebBot;
beforeAll(async () => void (web = await startWebBot()));
afterAll(async () => web.close());

/** Send `head` (and `body`) on a socket of its own; the whole answer once the server closes. */
function raw(head: string, body = ''): Promise<string> {
  const { port } = new URL(web.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(`${head}\r\nConnection: close\r\n\r\n${body}`));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('a request target in absolute form', () => {
  it('is routed on its path: /healthz answers 200', async () => {
    const answer = await raw(`GET ${web.url}/healthz HTTP/1.1\r\nHost: ${new URL(web.url).host}`);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('{"status":"ok"}');
  });

  it('takes a message on the web chat as in origin form', async () => {
    const body = JSON.stringify({ conversation: 'absolute-form', text: 'hello' });
    const answer = await raw(`POST ${web.url}/web/messages HTTP/1.1\r\nHost: ${new URL(web.url).host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}`, body);
    expect(answer).toMatch(/^HTTP\/1\.1 20[02] /);
    await web.waitFor('absolute-form', (entries) => entries.some((entry) => entry.role === 'assistant'));
  });
});

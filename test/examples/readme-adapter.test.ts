/**
 * The README's "Writing an adapter" example, as a user would paste it: taken from the README,
 * written to a file of its own (importing `parley/adapter-kit` and zod as the README does), and
 * run in a bot against a local fake of its platform's API. The package test compiles the same
 * snippet against the installed package; this one proves it answers, dedupes, refuses and waits.
 */
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, loadConfig, type Adapter, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';

const SECRET = 'readme-adapter-secret';
const sign = (body: string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');

/** The section's TypeScript block: the whole adapter. */
async function readmeAdapterSource(): Promise<string> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split('\n## Writing an adapter\n')[1]?.split('\n## ')[0] ?? '';
  return /^```ts\n([\s\S]*?)^```$/m.exec(section)?.[1] ?? '';
}

type Answer = 'ok' | '429' | '502 after storing' | 'silence after storing';
interface Posted { id: string; text: string; idempotencyKey?: string; at: number }

/** The platform's API as the README's adapter calls it: POST and GET /rooms/:room/messages. */
async function startFakeMine() {
  const rooms = new Map<string, Posted[]>();
  const answers = new Map<string, Answer[]>();
  const calls: { method: string; room: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://mine');
      const room = decodeURIComponent(url.pathname.split('/')[2] ?? '');
      const posted = rooms.get(room) ?? [];
      rooms.set(room, posted);
      calls.push({ method: req.method ?? '', room });
      if (req.method === 'GET') {
        const since = Number(url.searchParams.get('since'));
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(posted.filter((m) => m.at >= since)));
      }
      const answer = answers.get(room)?.shift() ?? 'ok';
      if (answer === '429') return void res.writeHead(429, { 'retry-after': '1' }).end();
      const key = req.headers['idempotency-key'] as string | undefined;
      const message = { id: `mine-${calls.length}`, text: (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string }).text, idempotencyKey: key, at: Date.now() };
      posted.push(message);
      if (answer === '502 after storing') return void res.writeHead(502).end();
      if (answer === 'silence after storing') return; // the adapter's timeout ends it
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: message.id }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rooms: (room: string) => rooms.get(room) ?? [],
    answer: (room: string, next: Answer[]) => answers.set(room, next),
    calls: (room: string, method: string) => calls.filter((c) => c.room === room && c.method === method).length,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe("README's Writing an adapter: the example adapter, run", () => {
  let dir: string;
  let ai: FakeOpenAi;
  let mine: Awaited<ReturnType<typeof startFakeMine>>;
  let bot: Bot;
  let url: string;
  let n = 0;
  beforeAll(async () => {
    // Next to the repository's node_modules, so `zod` and `parley/adapter-kit` resolve as in a project.
    dir = await mkdtemp(new URL('./readme-adapter-', import.meta.url).pathname);
    await writeFile(`${dir}/my-adapter.ts`, await readmeAdapterSource());
    const { myAdapter } = (await import(`${dir}/my-adapter.ts`)) as { myAdapter(options: { secret: string; apiUrl: string; timeoutMs?: number }): Adapter };
    ai = await startFakeOpenAi();
    mine = await startFakeMine();
    bot = createBot({ config: loadConfig({ ...testEnv, OPENAI_BASE_URL: ai.url, OPENAI_API_KEY: 'sk-test' }), adapters: [myAdapter({ secret: SECRET, apiUrl: mine.url, timeoutMs: 500 })] });
    url = `http://127.0.0.1:${((await bot.listen(0, '127.0.0.1')).address() as AddressInfo).port}`;
    await bot.ready;
  });
  afterAll(async () => {
    await bot?.close();
    await mine?.close();
    await ai?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A signed webhook in a room of its own (or the one given, with the same delivery id again). */
  async function webhook(text: string, again?: { id: string; room: string }, secret = SECRET) {
    const event = again ?? { id: `event-${++n}`, room: `room-${n}` };
    const body = JSON.stringify({ ...event, user: 'user-1', text });
    const res = await fetch(`${url}/mine/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mine-signature': sign(body, secret) }, body });
    return { ...event, status: res.status, body: (await res.json()) as unknown };
  }
  /** Long enough for a second post of a reply to arrive, were one made. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

  it('answers a signed webhook once, with the part key as its idempotency key, and drops a redelivery', async () => {
    const first = await webhook('hello mine');
    expect(first).toMatchObject({ status: 200, body: { ok: true } });
    await until(() => mine.rooms(first.room).length === 1, 'the reply');
    expect(mine.rooms(first.room)[0]).toMatchObject({ text: 'echo: hello mine', idempotencyKey: expect.stringMatching(/\S/) });
    expect((await webhook('hello mine', first)).status).toBe(200);
    await settle();
    expect(mine.rooms(first.room)).toHaveLength(1);
    expect(ai.calls.filter((c) => JSON.stringify(c.body).includes('hello mine'))).toHaveLength(1);
  });

  it('refuses a bad signature with 401 bad_signature, and a body that is not its event with 400', async () => {
    const forged = await webhook('hi', undefined, 'not-the-secret');
    expect(forged).toMatchObject({ status: 401, body: { error: { code: 'bad_signature' } } });
    const res = await fetch(`${url}/mine/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mine-signature': sign('{nope') }, body: '{nope' });
    expect(res.status).toBe(400);
  });

  it("waits out a 429's Retry-After, then posts once", async () => {
    const room = `room-${n + 1}`;
    mine.answer(room, ['429']);
    await webhook('slow down');
    await until(() => mine.rooms(room).length === 1, 'the reply after the 429', 10_000);
    await settle();
    expect(mine.calls(room, 'POST')).toBe(2);
  });

  it('looks for a post that timed out or got a 502 (findPart) rather than posting it again', async () => {
    const silent = `room-${n + 1}`;
    mine.answer(silent, ['silence after storing']);
    await webhook('are you there?');
    const gateway = `room-${n + 1}`;
    mine.answer(gateway, ['502 after storing']);
    await webhook('through a gateway');
    await until(() => mine.calls(silent, 'GET') >= 1 && mine.calls(gateway, 'GET') >= 1, 'the looks for the posts', 15_000);
    await until(async () => ((await (await fetch(`${url}/readyz`)).json()) as { adapters?: Record<string, string> }).adapters?.mine === 'ready', 'the adapter ready');
    await settle();
    for (const room of [silent, gateway]) {
      expect(mine.calls(room, 'POST'), room).toBe(1);
      expect(mine.rooms(room), room).toHaveLength(1);
    }
  }, 30_000);
});

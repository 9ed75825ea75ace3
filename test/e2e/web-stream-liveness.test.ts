/**
 * Web chat event streams in production: an idle stream sends heartbeats (proxies cut one idle for
 * 55-60 s) and tells nginx not to buffer it, a client that stops reading is cut and frees its stream slot (it used to hold it, its
 * events buffered without end, until TCP gave up), and idle streams look at the store's newest
 * item only, not the whole transcript four times a second each. A stream ends by plan at its maximum
 * age (streamMaxAgeMs), saying so (`event: reconnect`): a client gone without a word (a laptop shut,
 * whose heartbeats the kernel still takes) holds its slot that long at most, not until TCP gives up.
 */
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

const HEARTBEAT_MS = 50;

let ai: FakeOpenAi;
let bot: Bot;
let url: string;
beforeAll(async () => {
  ai = await startFakeOpenAi();
  const adapter = webChat({ page: true, streamHeartbeatMs: HEARTBEAT_MS, limits: { streamsPerVisitor: 1 } });
  bot = createBot({ config: loadConfig({ ...testEnv, OPENAI_BASE_URL: ai.url }), adapters: [adapter] });
  const server = await bot.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await bot.close();
  await ai.close();
});

/** A visitor session and a conversation of its own, answered (on `bot` at `url` unless told). */
async function visitorConversation(on: { bot: Bot; url: string } = { bot, url }): Promise<{ streamToken: string; conversation: string }> {
  const { bot, url } = on;
  const session = (await (await fetch(`${url}/web/sessions`, { method: 'POST' })).json()) as { token: string; streamToken: string };
  const posted = await fetch(`${url}/web/messages`, { method: 'POST', headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hello' }) });
  expect(posted.status).toBe(202);
  const { conversation } = (await posted.json()) as { conversation: string };
  await until(async () => (await bot.store.listRange(`parley:web:transcript:${conversation}`, 0, -1)).length === 2, 'the answer');
  return { streamToken: session.streamToken, conversation };
}

const eventsUrl = (conversation: string, streamToken: string, at = url) => `${at}/web/conversations/${conversation}/events?session=${encodeURIComponent(streamToken)}`;

describe('web chat event streams', () => {
  it('an idle stream sends a heartbeat comment', async () => {
    const { streamToken, conversation } = await visitorConversation();
    const abort = new AbortController();
    const res = await fetch(eventsUrl(conversation, streamToken), { signal: abort.signal });
    expect(res.status).toBe(200);
    // nginx passes each event on at once.
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    // A hang guard (a hundred heartbeats): the stream is cut then, and the read below fails.
    const guard = setTimeout(() => abort.abort(), 100 * HEARTBEAT_MS);
    let received = '';
    // Nothing happens in the conversation: past the transcript, only the heartbeat can come.
    while (!received.includes('\n: keep-alive\n\n')) received += (await reader.read()).value ?? '';
    clearTimeout(guard);
    expect(received.startsWith('data: ')).toBe(true);
    abort.abort();
  });

  it('a client that stops reading is cut, and its stream slot freed', async () => {
    const { streamToken, conversation } = await visitorConversation();
    const transcript = `parley:web:transcript:${conversation}`;
    // A long transcript: each change sends it whole, so a client that reads nothing backs up soon.
    const long = (n: number) => JSON.stringify({ role: 'assistant', text: `${n} ${'x'.repeat(64 * 1024)}`, at: new Date().toISOString() });
    await bot.store.listPush(transcript, Array.from({ length: 16 }, (_, n) => long(n)), { maxLength: 40 });

    // A raw client that takes the stream's first bytes and then reads nothing (a frozen tab, a dead link).
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(`GET ${new URL(eventsUrl(conversation, streamToken)).pathname}${new URL(eventsUrl(conversation, streamToken)).search} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const first = await new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
    socket.pause();
    expect(first.startsWith('HTTP/1.1 200')).toBe(true);

    // Its slot is taken: the visitor's one stream (streamsPerVisitor: 1).
    const refused = await fetch(eventsUrl(conversation, streamToken));
    expect(refused.status).toBe(429);
    await refused.body?.cancel();

    // The transcript keeps changing; the stream is cut once its writes have backed up for 4 heartbeats.
    let n = 16;
    const opened = await until(
      async () => {
        await bot.store.listPush(transcript, [long(n++)], { maxLength: 40 });
        const res = await fetch(eventsUrl(conversation, streamToken));
        if (res.status === 200) return res;
        await res.body?.cancel();
        return undefined;
      },
      'the stalled stream to free its slot',
      10_000,
    );
    expect(opened.status).toBe(200);
    await opened.body!.cancel();
    // And its connection was closed, not left to TCP to give up on: read on, it ends.
    socket.resume();
    await closed;
    socket.destroy();
  });

  it('idle streams read only the newest item of their transcript, and once per conversation', async () => {
    const { streamToken, conversation } = await visitorConversation();
    const transcript = `parley:web:transcript:${conversation}`;
    let whole = 0;
    let newest = 0;
    const listRange = bot.store.listRange.bind(bot.store);
    bot.store.listRange = (key, start, stop) => {
      if (key === transcript && start === 0 && stop === -1) whole++;
      if (key === transcript && start === -1 && stop === -1) newest++;
      return listRange(key, start, stop);
    };
    try {
      const abort = new AbortController();
      // The visitor's one stream, and the operator's (this machine's) four more on the same conversation.
      const streams = await Promise.all([eventsUrl(conversation, streamToken), ...Array.from({ length: 4 }, () => `${url}/web/conversations/${conversation}/events`)].map((at) => fetch(at, { signal: abort.signal })));
      expect(streams.map((res) => res.status)).toEqual([200, 200, 200, 200, 200]);
      const readers = streams.map((res) => res.body!.getReader());
      await Promise.all(readers.map((reader) => reader.read())); // each its transcript, at once
      const [wholeBefore, newestBefore] = [whole, newest];
      await new Promise((resolve) => setTimeout(resolve, 1000)); // four polls' worth
      expect(whole).toBe(wholeBefore);
      expect(newest).toBeGreaterThan(newestBefore);

      // A change is read whole once, for all five streams, and reaches each.
      await bot.store.listPush(transcript, [JSON.stringify({ role: 'assistant', text: 'later', at: new Date().toISOString() })]);
      const decoder = new TextDecoder();
      for (const reader of readers) {
        let received = '';
        await until(async () => (received += decoder.decode((await reader.read()).value)).includes('"later"'), 'the change on each stream');
      }
      expect(whole).toBe(wholeBefore + 1);
      abort.abort();
    } finally {
      bot.store.listRange = listRange;
    }
  });
});

describe('web chat event streams with a maximum age', () => {
  const MAX_AGE_MS = 400;
  let aged: { bot: Bot; url: string };
  beforeAll(async () => {
    // Heartbeats as in production (15 s): only the maximum age can end an idle stream here.
    const adapter = webChat({ page: true, streamMaxAgeMs: MAX_AGE_MS, limits: { streamsPerVisitor: 1 } });
    const agedBot = createBot({ config: loadConfig({ ...testEnv, OPENAI_BASE_URL: ai.url }), adapters: [adapter] });
    const server = await agedBot.listen(0, '127.0.0.1');
    aged = { bot: agedBot, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  });
  afterAll(async () => {
    await aged?.bot.close();
  });

  it('an idle stream ends at its maximum age with the reconnect event, its slot free for the next', async () => {
    const { streamToken, conversation } = await visitorConversation(aged);
    const abort = new AbortController();
    // A hang guard (many maximum ages): the stream is cut then, and the read below fails.
    const guard = setTimeout(() => abort.abort(), 10_000);
    try {
      const res = await fetch(eventsUrl(conversation, streamToken, aged.url), { signal: abort.signal });
      expect(res.status).toBe(200);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let received = (await reader.read()).value ?? '';
      expect(received.startsWith('data: ')).toBe(true);
      // The visitor's one stream is open: another is refused.
      const refused = await fetch(eventsUrl(conversation, streamToken, aged.url));
      expect(refused.status).toBe(429);
      await refused.body?.cancel();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) received += chunk.value;
      // Ended by the server, cleanly, saying it was planned (the page reconnects at once).
      expect(received.endsWith('\n\nevent: reconnect\ndata: {}\n\n')).toBe(true);
      // Its slot was freed as it ended: the next stream opens, with the transcript as its first event.
      const next = await fetch(eventsUrl(conversation, streamToken, aged.url), { signal: abort.signal });
      expect(next.status).toBe(200);
      const first = await next.body!.pipeThrough(new TextDecoderStream()).getReader().read();
      expect(first.value).toContain('"role":"assistant"');
    } finally {
      clearTimeout(guard);
      abort.abort();
    }
  });

  it('a client gone without a word (nothing read, no FIN) frees its slot at the maximum age', async () => {
    const { streamToken, conversation } = await visitorConversation(aged);
    // A raw client that takes the stream's first bytes and then is silent: its heartbeats would still
    // land in the kernel's buffers, so only the maximum age ends its stream.
    const at = new URL(eventsUrl(conversation, streamToken, aged.url));
    const socket = connect(Number(at.port), '127.0.0.1');
    socket.on('error', () => undefined);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.write(`GET ${at.pathname}${at.search} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await until(() => received.startsWith('HTTP/1.1 200'), 'the stream to open');
    try {
      // Its slot is taken until the maximum age: then the visitor opens a stream again.
      const opened = await until(
        async () => {
          const res = await fetch(eventsUrl(conversation, streamToken, aged.url));
          if (res.status === 200) return res;
          await res.body?.cancel();
          return undefined;
        },
        'the silent stream to free its slot',
        10_000,
      );
      await opened.body!.cancel();
      // The silent client's stream ended by plan, its response complete (chunked: the last chunk).
      await until(() => received.includes('event: reconnect'), 'the reconnect event');
      await until(() => received.endsWith('0\r\n\r\n'), 'the end of the response');
    } finally {
      socket.destroy();
    }
  });
});

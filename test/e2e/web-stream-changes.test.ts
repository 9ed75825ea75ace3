/**
 * The chat page's event stream (`?changes=1`) sends the whole transcript first, then only what
 * changed (`{ dropped, added }`): each change sent it whole, some 0.5 MB for 200 long answers, twice
 * an exchange, to every open tab. A stream without it still sends the whole transcript every time.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import type { TranscriptEntry } from '../../adapters/web/transcript.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

const MAX_TRANSCRIPT = 40;
let ai: FakeOpenAi;
let bot: Bot;
let url: string;
beforeAll(async () => {
  ai = await startFakeOpenAi();
  bot = createBot({ config: loadConfig({ ...testEnv, OPENAI_BASE_URL: ai.url }), adapters: [webChat({ page: true, maxTranscript: MAX_TRANSCRIPT })] });
  const server = await bot.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await bot.close();
  await ai.close();
});

type Event = { messages?: TranscriptEntry[]; dropped?: number; added?: TranscriptEntry[]; bytes: number };

/** A stream's data events, read as they come (comments skipped); `close` ends it. */
async function openStream(conversation: string, streamToken: string, query: string) {
  const abort = new AbortController();
  const res = await fetch(`${url}/web/conversations/${conversation}/events?${query}session=${encodeURIComponent(streamToken)}`, { signal: abort.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    async next(): Promise<Event> {
      const guard = setTimeout(() => abort.abort(), 10_000); // a hang fails the read
      try {
        for (;;) {
          const end = buffer.indexOf('\n\n');
          if (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (block.startsWith('data: ')) return { ...(JSON.parse(block.slice(6)) as Event), bytes: Buffer.byteLength(block) };
            continue;
          }
          buffer += (await reader.read()).value ?? '';
        }
      } finally {
        clearTimeout(guard);
      }
    },
    close: () => abort.abort(),
  };
}

const transcriptKey = (conversation: string) => `parley:web:transcript:${conversation}`;
const entry = (n: number) => JSON.stringify({ role: 'assistant', text: `${n} ${'A long answer. '.repeat(300)}`, at: new Date().toISOString(), tryId: `t${n}` });

async function visitorConversation() {
  const session = (await (await fetch(`${url}/web/sessions`, { method: 'POST' })).json()) as { token: string; streamToken: string };
  const post = (text: string, conversation?: string) =>
    fetch(`${url}/web/messages`, { method: 'POST', headers: { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ text, conversation }) });
  const { conversation } = (await (await post('hello')).json()) as { conversation: string };
  await until(async () => (await bot.store.listRange(transcriptKey(conversation), 0, -1)).length === 2, 'the answer');
  const transcript = async () => ((await (await fetch(`${url}/web/conversations/${conversation}`, { headers: { authorization: `Bearer ${session.token}` } })).json()) as { messages: TranscriptEntry[] }).messages;
  return { conversation, streamToken: session.streamToken, post: (text: string) => post(text, conversation), transcript };
}

describe('the chat page event stream, ?changes=1', () => {
  it('sends the whole transcript first, then only what changed (a few KB however long the transcript), the whole again when what it sent last is gone', async () => {
    const { conversation, streamToken, post, transcript } = await visitorConversation();
    await bot.store.listPush(transcriptKey(conversation), Array.from({ length: 30 }, (_, n) => entry(n)), { maxLength: MAX_TRANSCRIPT });
    const stream = await openStream(conversation, streamToken, 'changes=1&');
    const plain = await openStream(conversation, streamToken, ''); // an API client's, as before
    const first = await stream.next();
    let shown = first.messages!;
    expect(shown).toHaveLength(32);
    expect(first.bytes).toBeGreaterThan(100_000); // 30 answers of 4.5 KB

    // Exchanges until the transcript is at its cap and its oldest entries go: each event says what changed.
    for (let n = 0; n < 6; n++) {
      expect((await post(`question ${n}`)).status).toBe(202);
      const answered = (messages: TranscriptEntry[]) => messages.filter((m) => m.role === 'user' && m.text === `question ${n}`).length === 1 && messages.at(-1)!.role === 'assistant';
      while (!answered(shown)) {
        const event = await stream.next();
        expect(event.messages).toBeUndefined();
        expect(event.bytes).toBeLessThan(2_000);
        shown = shown.slice(event.dropped).concat(event.added!);
      }
    }
    expect(shown).toHaveLength(MAX_TRANSCRIPT);
    expect(shown).toEqual(await transcript()); // the page shows what GET answers

    // Without changes=1 every event is the whole transcript.
    let whole = await plain.next();
    while (whole.messages!.at(-2)?.text !== 'question 5') whole = await plain.next();
    expect(whole.messages).toEqual(shown);
    plain.close();

    // More entries at once than the transcript keeps: the last one sent is trimmed away, and the whole goes again.
    await bot.store.listPush(transcriptKey(conversation), Array.from({ length: MAX_TRANSCRIPT }, (_, n) => entry(100 + n)), { maxLength: MAX_TRANSCRIPT });
    const again = await stream.next();
    expect(again.messages?.map((m) => m.text.split(' ')[0])).toEqual(Array.from({ length: MAX_TRANSCRIPT }, (_, n) => String(100 + n)));
    stream.close();
  });
});

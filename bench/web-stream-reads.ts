/**
 * What idle web chat event streams cost the store: opens STREAMS streams (on as many
 * conversations, then all on one), waits, and prints the store's list reads per second and the
 * bytes they returned. A figure, never an assertion. Run: npx tsx bench/web-stream-reads.ts
 */
import type { AddressInfo } from 'node:net';
import { webChat } from '../adapters/web/index.js';
import { createBot, loadConfig, MemoryStore } from '../src/index.js';

const STREAMS = Number(process.env.STREAMS ?? 50);
const SECONDS = Number(process.env.SECONDS ?? 3);
/** Entries in each transcript: a conversation some turns in. */
const ENTRIES = 20;

/** The memory store, counting its list reads (the transcript's are all there are while idle). */
class CountingStore extends MemoryStore {
  reads = 0;
  bytes = 0;
  override async listRange(key: string, start: number, stop: number): Promise<string[]> {
    const items = await super.listRange(key, start, stop);
    if (key.startsWith('parley:web:transcript:')) {
      this.reads++;
      for (const item of items) this.bytes += item.length;
    }
    return items;
  }
}

const store = new CountingStore();
const bot = createBot({ config: loadConfig({ LOG_LEVEL: 'silent', OPENAI_API_KEY: 'sk-bench' }), adapters: [webChat()], store, worker: false });
const server = await bot.listen(0, '127.0.0.1');
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const entry = (i: number) => JSON.stringify({ role: i % 2 ? 'assistant' : 'user', text: `turn ${i} `.repeat(40), at: new Date().toISOString() });
async function seed(conversation: string): Promise<void> {
  await store.listPush(`parley:web:transcript:${conversation}`, Array.from({ length: ENTRIES }, (_, i) => entry(i)), { ttlMs: 3_600_000 });
}

async function measure(label: string, conversations: string[]): Promise<void> {
  const open = new AbortController();
  // Each stream's first event (the transcript) read, so every one is open and idle.
  await Promise.all(
    conversations.map(async (conversation) => {
      const res = await fetch(`${base}/web/conversations/${conversation}/events`, { signal: open.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      void (async () => {
        while (!(await reader.read().catch(() => ({ done: true }))).done);
      })();
    }),
  );
  const [reads, bytes] = [store.reads, store.bytes];
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const perSecond = (n: number) => Math.round(n / SECONDS);
  console.log(`${label}: ${perSecond(store.reads - reads)} transcript reads/s, ${perSecond(store.bytes - bytes)} bytes/s`);
  open.abort();
  await new Promise((resolve) => setTimeout(resolve, 300));
}

const many = Array.from({ length: STREAMS }, (_, i) => `bench-${i}`);
await Promise.all(many.map(seed));
await measure(`${STREAMS} idle streams, ${STREAMS} conversations`, many);
await measure(`${STREAMS} idle streams, 1 conversation`, many.map(() => 'bench-0'));
await bot.close();
server.close();

/**
 * Writes whose outcome is unknown (a command that timed out, which a frozen Redis carries out when
 * it wakes): a store that makes the chosen write and then throws ioredis's "Command timed out".
 * The try after it must find neither a duplicate nor a gap. (test/e2e/web-frozen-redis.test.ts
 * does the same on a real, frozen Redis.)
 */
import { describe, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import { Transcripts } from '../../adapters/web/transcript.js';
import { claimDelivery } from '../../src/ingest.js';
import { keys } from '../../src/jobs.js';
import { createMetrics } from '../../src/observe/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { adapterContext, inbound } from './helpers.js';

/** Makes the first write whose key contains `late` (and, when `lands` is false, does not), then says it timed out. */
class LateStore extends MemoryStore {
  constructor(
    private late: string | undefined,
    private readonly lands = true,
  ) {
    super();
  }
  private async timedOut<T>(key: string, write: () => Promise<T>): Promise<T> {
    if (this.late === undefined || !key.includes(this.late)) return write();
    this.late = undefined;
    if (this.lands) await write();
    throw new Error('Command timed out');
  }
  override setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    return this.timedOut(key, () => super.setIfAbsent(key, value, ttlMs));
  }
  override listPush(key: string, values: string[], options?: { maxLength?: number; ttlMs?: number }): Promise<void> {
    return this.timedOut(key, () => super.listPush(key, values, options));
  }
}

const entry = (text: string) => ({ role: 'user' as const, text, at: new Date().toISOString() });
const texts = async (transcripts: Transcripts, conversation: string) => (await transcripts.read(conversation)).map((e) => `${e.role}: ${e.text}`);

describe("the visitor's turn, after a write whose outcome is unknown", () => {
  it('is kept once when the message-id list write timed out after the turn was appended', async () => {
    const transcripts = new Transcripts(new LateStore('parley:web:ids:'), 60_000, 100);
    await expect(transcripts.appendTurn('c1', 'm1', entry('hello'))).rejects.toThrow('Command timed out');
    await transcripts.appendTurn('c1', 'm1', entry('hello'));
    expect(await texts(transcripts, 'c1')).toEqual(['user: hello']);
    expect(await transcripts.messageIds('c1')).toEqual(['m1']);
  });

  it('is kept when the turn claim timed out but was set', async () => {
    const transcripts = new Transcripts(new LateStore('parley:web:turn:'), 60_000, 100);
    await expect(transcripts.appendTurn('c1', 'm1', entry('hello'))).rejects.toThrow('Command timed out');
    expect(await transcripts.appendTurn('c1', 'm1', entry('hello'))).toBe(true);
    expect(await texts(transcripts, 'c1')).toEqual(['user: hello']);
  });

  it('is kept when its append timed out and was not made, and once when it was', async () => {
    for (const lands of [false, true]) {
      const transcripts = new Transcripts(new LateStore('parley:web:transcript:', lands), 60_000, 100);
      await expect(transcripts.appendTurn('c1', 'm1', entry('hello'))).rejects.toThrow('Command timed out');
      expect(await transcripts.appendTurn('c1', 'm1', entry('hello'))).toBe(!lands);
      expect(await texts(transcripts, 'c1')).toEqual(['user: hello']);
    }
  });

  it('a message sent again after it was kept is not kept twice; the transcript shows no bookkeeping', async () => {
    const transcripts = new Transcripts(new MemoryStore(), 60_000, 100);
    expect(await transcripts.appendTurn('c1', 'm1', entry('hello'))).toBe(true);
    expect(await transcripts.appendTurn('c1', 'm1', entry('hello'))).toBe(false);
    expect(await transcripts.read('c1')).toEqual([{ role: 'user', text: 'hello', at: expect.any(String) }]);
  });
});

describe("the web adapter's send", () => {
  const started = async (markerStore: MemoryStore) => {
    const adapter = webChat({ token: 'operator-token-0123456789' });
    const context = adapterContext(new MemoryStore(), { markerStore });
    await adapter.start!(context);
    return adapter;
  };

  it('appends a reply once per key: the retry of a job whose append timed out (and landed) shows one answer', async () => {
    const markers = new LateStore('parley:web:transcript:');
    const adapter = await started(markers);
    const conversation = { platform: 'web', id: 'c1' };
    await expect(adapter.send!(conversation, { text: 'answer #0' }, { key: 'job-1:1' })).rejects.toThrow('Command timed out');
    await adapter.send!(conversation, { text: 'answer #1' }, { key: 'job-1:1' });
    await adapter.send!(conversation, { text: 'a second reply' }, { key: 'job-1:2' });
    expect(await texts(new Transcripts(markers, 60_000, 100), 'c1')).toEqual(['assistant: answer #0', 'assistant: a second reply']);
  });
});

describe('the delivery claim, after its write timed out', () => {
  const deps = (store: MemoryStore) => ({ store, metrics: createMetrics() });

  it('is taken back, so the message sent again is taken', async () => {
    const store = new LateStore('parley:seen:');
    const message = inbound();
    await expect(claimDelivery(deps(store), message, async () => 'taken')).rejects.toThrow('Command timed out');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await claimDelivery(deps(store), { ...message }, async () => 'taken')).toBe('taken');
  });

  it("is not taken back when it was another delivery's claim", async () => {
    const store = new LateStore(undefined);
    const message = inbound();
    expect(await claimDelivery(deps(store), message, async () => 'taken')).toBe('taken');
    const claim = await store.get(keys.seen(message));
    // The second delivery's claim times out (it found the first's claim and set nothing).
    (store as unknown as { late: string }).late = 'parley:seen:';
    await expect(claimDelivery(deps(store), { ...message }, async () => 'taken')).rejects.toThrow('Command timed out');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await store.get(keys.seen(message))).toBe(claim);
    expect(await claimDelivery(deps(store), { ...message }, async () => 'taken')).toBe('duplicate');
  });
});

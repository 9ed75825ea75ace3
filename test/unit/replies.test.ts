import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RetryAfterError, type Adapter, type ReplyPart } from '../../src/adapter.js';
import { PLATFORM_UNREACHABLE_WAIT_MS, hmacMatches, notSentCode, parseRetryAfter, platformUnreachable, retryAfterMs, safeEqual, waitOutRetryAfter } from '../../src/adapter-kit.js';
import type { ConversationRef } from '../../src/message.js';
import { PendingWrites } from '../../src/pending-writes.js';
import { partKey, postReply, replyParts, replyTextKey } from '../../src/replies.js';
import { MemoryStore } from '../../src/store/index.js';

interface Details {
  room: string;
}

/** An adapter that posts parts into an array; `fail` decides, per call, whether a post throws. */
function partsAdapter(fail: (text: string, part: ReplyPart) => Error | undefined = () => undefined) {
  const posted: Array<{ room: string; text: string; part: ReplyPart }> = [];
  const adapter = {
    platform: 'parts',
    path: '/parts',
    contentTypes: ['application/json'],
    maxChars: 20,
    format: (markdown: string) => markdown.replace(/\*\*(.+?)\*\*/g, '*$1*'),
    receive: async () => ({ response: { status: 200 }, messages: [] }),
    async sendPart(conversation: ConversationRef<Details>, text: string, part: ReplyPart) {
      const error = fail(text, part);
      if (error) throw error;
      // Typed details, no cast: the adapter's own ConversationRef<Details>.
      posted.push({ room: conversation.details!.room, text, part });
      return `id-${posted.length}`;
    },
  } satisfies Adapter<Details>;
  return { adapter, posted };
}

const ref: ConversationRef<Details> = { platform: 'parts', id: 'r1', details: { room: 'lobby' } };
const long = 'First sentence here. Second one is **bold**. Third ends it.';
let markers: MemoryStore;
afterEach(async () => markers?.close());

describe('postReply', () => {
  it('formats, splits at maxChars and posts each part in order, telling the adapter which part it is', async () => {
    markers = new MemoryStore();
    const { adapter, posted } = partsAdapter();
    const delivery = await postReply(adapter, ref, { text: long }, { key: 'job1:1', markers });
    expect(posted.map((p) => p.text)).toEqual(replyParts(adapter, long));
    expect(posted.length).toBeGreaterThan(1);
    expect(posted.every((p) => p.text.length <= 20 && p.room === 'lobby')).toBe(true);
    expect(posted.map((p) => p.text).join(' ')).toContain('*bold*');
    expect(posted[1]!.part).toEqual({ index: 1, total: posted.length, kind: 'answer', key: 'job1:1:1' });
    expect(delivery.ids).toEqual(posted.map((_, i) => `id-${i + 1}`));
    expect(await markers.get(partKey('parts', 'job1:1', 0))).toBe('id-1');
  });

  it('writes alsoMark (the worker\'s "sent" marker) with the last part, not before; also when every part was already posted', async () => {
    markers = new MemoryStore();
    const sent = { key: 'parley:sent:job9:1', value: 'done' };
    let calls = 0;
    const { adapter, posted } = partsAdapter(() => (++calls === 2 ? new Error('platform 500') : undefined));
    await expect(postReply(adapter, ref, { text: long }, { key: 'job9:1', markers, alsoMark: sent })).rejects.toThrow('platform 500');
    expect(await markers.get(sent.key)).toBeUndefined(); // a reply cut short is not "sent"
    await postReply(adapter, ref, { text: long }, { key: 'job9:1', markers, alsoMark: sent });
    expect(await markers.get(sent.key)).toBe('done');
    await markers.delete(sent.key);
    const before = posted.length;
    await postReply(adapter, ref, { text: long }, { key: 'job9:1', markers, alsoMark: sent });
    expect(posted).toHaveLength(before); // nothing posted again…
    expect(await markers.get(sent.key)).toBe('done'); // …and the reply is on record as sent
  });

  it('posts nothing when alsoMark is set already (the whole reply went out before), reading every marker at once', async () => {
    let reading = 0;
    let mostAtOnce = 0;
    markers = new (class extends MemoryStore {
      override async get(key: string) {
        mostAtOnce = Math.max(mostAtOnce, ++reading);
        await new Promise((resolve) => setImmediate(resolve));
        reading--;
        return super.get(key);
      }
    })();
    const sent = { key: 'parley:sent:job8:1', value: 'done' };
    const { adapter, posted } = partsAdapter();
    const first = await postReply(adapter, ref, { text: long }, { key: 'job8:1', markers, alsoMark: sent });
    expect(first.sentBefore).toBeUndefined();
    const parts = posted.length;
    expect(mostAtOnce).toBe(parts + 2); // the "sent" marker, the reply's text and each part's, in one go
    const again = await postReply(adapter, ref, { text: long }, { key: 'job8:1', markers, alsoMark: sent });
    expect(again).toEqual({ ids: [], sentBefore: true });
    expect(posted).toHaveLength(parts);
  });

  it('on a retry after a failed part, posts only the parts still missing', async () => {
    markers = new MemoryStore();
    let calls = 0;
    const { adapter, posted } = partsAdapter(() => (++calls === 2 ? new Error('platform 500') : undefined));
    await expect(postReply(adapter, ref, { text: long }, { key: 'job2:1', markers })).rejects.toThrow('platform 500');
    expect(posted).toHaveLength(1);
    const delivery = await postReply(adapter, ref, { text: long }, { key: 'job2:1', markers });
    expect(posted.map((p) => p.part.index)).toEqual([0, ...replyParts(adapter, long).slice(1).map((_, i) => i + 1)]);
    expect(delivery.ids[0]).toBe('id-1');
  });

  it('on a retry that brings another answer, posts the missing parts of the answer begun, not of the new one', async () => {
    markers = new MemoryStore();
    let calls = 0;
    const { adapter, posted } = partsAdapter(() => (++calls === 2 ? new Error('platform 500') : undefined));
    await expect(postReply(adapter, ref, { text: long }, { key: 'job3:1', markers })).rejects.toThrow('platform 500');
    // The AI, asked again, answers differently: shorter (one part) this time.
    const retried = await postReply(adapter, ref, { text: 'Quite another.' }, { key: 'job3:1', markers });
    expect(posted.map((p) => p.text)).toEqual(replyParts(adapter, long));
    expect(retried.finished).toBe(long); // what the user got, for the history
    expect((await postReply(adapter, ref, { text: 'Short.' }, { key: 'job6:1', markers })).finished).toBeUndefined();
  });

  it('keeps no text for a reply of one part', async () => {
    markers = new MemoryStore();
    const { adapter } = partsAdapter();
    await postReply(adapter, ref, { text: 'Short.' }, { key: 'job4:1', markers });
    expect(await markers.get(replyTextKey('parts', 'job4:1'))).toBeUndefined();
    await postReply(adapter, ref, { text: long }, { key: 'job5:1', markers });
    expect(await markers.get(replyTextKey('parts', 'job5:1'))).toBe(long);
  });

  it('with pending writes, posts every part without waiting for their markers; settled() waits for them and throws a failed one', async () => {
    markers = new MemoryStore();
    const { adapter, posted } = partsAdapter();
    const held: Array<() => void> = [];
    let failNext = false;
    // A store whose marker writes finish only when the test lets them (the last one fails). The
    // reply's text is written, and waited for, before its first part goes out.
    const slow = Object.assign(Object.create(markers) as MemoryStore, {
      set: (key: string, value: string, ttlMs?: number) =>
        key === replyTextKey('parts', 'job7:1')
          ? markers.set(key, value, ttlMs)
          : new Promise<void>((resolve, reject) => held.push(() => (failNext ? reject(new Error('store down')) : resolve(markers.set(key, value, ttlMs))))),
    });
    const pending = new PendingWrites();
    const sent = { key: 'parley:sent:job7:1', value: 'done' };
    const delivery = await postReply(adapter, ref, { text: long }, { key: 'job7:1', markers: slow, alsoMark: sent, pending });
    expect(delivery.ids).toHaveLength(replyParts(adapter, long).length);
    expect(posted).toHaveLength(delivery.ids.length);
    expect(held).toHaveLength(delivery.ids.length + 1); // a marker per part, and "sent"
    let done = false;
    const settled = pending.settled().then(() => (done = true), (error: unknown) => error);
    for (const release of held.slice(0, -1)) release();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(done).toBe(false); // one write is still out
    failNext = true;
    held.at(-1)!();
    expect(await settled).toEqual(new Error('store down'));
    expect(await markers.get(partKey('parts', 'job7:1', 0))).toBe('id-1');
  });

  it('without a key, posts every part and records nothing', async () => {
    markers = new MemoryStore();
    const { adapter, posted } = partsAdapter();
    await postReply(adapter, ref, { text: long, kind: 'apology' }, { markers });
    await postReply(adapter, ref, { text: long, kind: 'apology' }, { markers });
    expect(posted).toHaveLength(2 * replyParts(adapter, long).length);
    expect(posted[0]!.part).toEqual({ index: 0, total: replyParts(adapter, long).length, kind: 'apology' });
  });

  it('stops when sendPart answers null', async () => {
    markers = new MemoryStore();
    const { adapter, posted } = partsAdapter();
    const stopping = { ...adapter, sendPart: async (c: ConversationRef<Details>, text: string, part: ReplyPart) => (part.index === 1 ? null : adapter.sendPart(c, text, part)) };
    const delivery = await postReply(stopping, ref, { text: long }, { key: 'job3:1', markers });
    expect(posted).toHaveLength(1);
    expect(delivery.ids).toEqual(['id-1']);
  });

  it('waits out a short Retry-After in place and hands a long one to the queue', async () => {
    markers = new MemoryStore();
    let calls = 0;
    const short = partsAdapter(() => (++calls === 1 ? new RetryAfterError('429', 50) : undefined));
    const started = Date.now();
    await postReply(short.adapter, ref, { text: 'short reply' }, { key: 'job4:1', markers });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(short.posted).toHaveLength(1);

    const slow = partsAdapter(() => new RetryAfterError('429', 60_000));
    await expect(postReply(slow.adapter, ref, { text: 'short reply' }, { key: 'job5:1', markers })).rejects.toMatchObject({ retryAfterMs: 60_000 });
  });

  it('uses send for an adapter that posts whole replies', async () => {
    markers = new MemoryStore();
    const whole: string[] = [];
    const adapter: Adapter = {
      platform: 'whole',
      path: '/w',
      contentTypes: [],
      receive: async () => ({ response: { status: 200 }, messages: [] }),
      send: async (_c, reply) => (whole.push(reply.text), { ids: ['w1'] }),
    };
    expect(await postReply(adapter, ref, { text: long }, { key: 'k', markers })).toEqual({ ids: ['w1'] });
    expect(whole).toEqual([long]);
  });
});

describe('Retry-After helpers', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  it('reads seconds, dates, retry-after-ms and a reset header; undefined when nothing says', () => {
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Wed, 01 May 2024 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('-3', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), { now })).toBe(250);
    expect(retryAfterMs({ 'retry-after': 3 }, { now })).toBe(3000);
    expect(retryAfterMs({ 'x-ratelimit-reset': String(now / 1000 + 7) }, { now, resetHeader: 'x-ratelimit-reset' })).toBe(7000);
    expect(retryAfterMs({ 'x-ratelimit-reset': String(now / 1000 + 7) }, { now })).toBeUndefined();
    // A reset already past says nothing: the caller's default, not "retry now".
    expect(retryAfterMs({ 'x-ratelimit-reset': String(now / 1000 - 5) }, { now, resetHeader: 'x-ratelimit-reset' })).toBeUndefined();
  });

  it('gives up waiting in place after maxRetries', async () => {
    let calls = 0;
    const waits: number[] = [];
    const call = () => waitOutRetryAfter(async () => { calls++; throw new RetryAfterError('429', 1); }, { maxRetries: 2, onWait: (ms) => waits.push(ms) });
    await expect(call()).rejects.toBeInstanceOf(RetryAfterError);
    expect(calls).toBe(3);
    expect(waits).toEqual([1, 1]);
  });

  it('never waits in place for a platform that could not be reached: that wait is the queue\'s', async () => {
    let calls = 0;
    const unreachable = platformUnreachable('the API', 'ECONNREFUSED');
    await expect(waitOutRetryAfter(async () => { calls++; throw unreachable; })).rejects.toBe(unreachable);
    expect(calls).toBe(1);
    expect(unreachable).toMatchObject({ retryAfterMs: PLATFORM_UNREACHABLE_WAIT_MS, inPlace: false });
  });

  it('tells a connection failure that sent nothing, in a cause or from every address tried, from one after sending', () => {
    const failed = (code: string) => Object.assign(new Error(code), { code });
    expect(notSentCode(new TypeError('fetch failed', { cause: failed('ECONNREFUSED') }))).toBe('ECONNREFUSED');
    expect(notSentCode(failed('ENOTFOUND'))).toBe('ENOTFOUND');
    expect(notSentCode(new AggregateError([failed('ECONNREFUSED'), failed('EHOSTUNREACH')]))).toBe('ECONNREFUSED');
    expect(notSentCode(new AggregateError([failed('ECONNREFUSED'), failed('ECONNRESET')]))).toBeUndefined();
    expect(notSentCode(new TypeError('fetch failed', { cause: failed('ECONNRESET') }))).toBeUndefined();
    expect(notSentCode(new Error('timeout'))).toBeUndefined();
  });
});

describe('signature helpers', () => {
  it('matches an HMAC under any of the secrets, and nothing that is not hex', () => {
    const body = Buffer.from('{"a":1}');
    const signature = createHmac('sha256', 'new-secret').update(body).digest('hex');
    expect(hmacMatches(signature, ['old-secret', 'new-secret'], body)).toBe(true);
    expect(hmacMatches(signature.toUpperCase(), ['new-secret'], body)).toBe(true);
    expect(hmacMatches(signature, ['old-secret'], body)).toBe(false);
    expect(hmacMatches(`${signature}zz`, ['new-secret'], body)).toBe(false);
    expect(hmacMatches('', ['new-secret'], body)).toBe(false);
    expect(hmacMatches(`${signature}a`, ['new-secret'], body)).toBe(false);
    expect(hmacMatches(`${signature.slice(0, 10)}g${signature.slice(11)}`, ['new-secret'], body)).toBe(false);
    expect(hmacMatches(` ${signature.slice(1)}`, ['new-secret'], body)).toBe(false);
    expect(safeEqual('token', 'token')).toBe(true);
    expect(safeEqual('token', 'token2')).toBe(false);
  });
});

describe('a process that dies while a part is being posted (kill -9, a lost container)', () => {
  it('leaves the part marked "maybe posted": the retry looks on the platform (findPart) and does not post it again', async () => {
    markers = new MemoryStore();
    const sent: string[] = [];
    const looked: number[] = [];
    const adapter = {
      platform: 'dies',
      path: '/dies',
      contentTypes: ['application/json'],
      receive: async () => ({ response: { status: 200 }, messages: [] }),
      // The first post reaches the platform, and its process dies before the answer: it never resolves.
      sendPart: (_conversation: ConversationRef<Details>, text: string) => {
        sent.push(text);
        return sent.length === 1 ? new Promise<string>(() => undefined) : Promise.resolve(`id-${sent.length}`);
      },
      findPart: async (_conversation: ConversationRef<Details>, _part: ReplyPart, since: number) => {
        looked.push(since);
        return 'id-1';
      },
    } satisfies Adapter<Details>;
    const before = Date.now();
    void postReply(adapter, ref, { text: 'hello there' }, { key: 'job-d:1', markers });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sent).toEqual(['hello there']);
    // The job runs again elsewhere (the same store).
    const retry = await postReply(adapter, ref, { text: 'hello there' }, { key: 'job-d:1', markers });
    expect(retry.ids).toEqual(['id-1']);
    expect(sent).toEqual(['hello there']);
    expect(looked).toHaveLength(1);
    expect(looked[0]).toBeGreaterThanOrEqual(before);
    expect(await markers.get(partKey('dies', 'job-d:1', 0))).toBe('id-1');
  });

  it('a post the platform refused (not lost) leaves no mark: its retry posts without looking', async () => {
    markers = new MemoryStore();
    let calls = 0;
    const looked: number[] = [];
    const adapter = {
      platform: 'refuses',
      path: '/refuses',
      contentTypes: ['application/json'],
      receive: async () => ({ response: { status: 200 }, messages: [] }),
      sendPart: async () => {
        if (++calls === 1) throw new Error('503 from the platform');
        return `id-${calls}`;
      },
      findPart: async (_conversation: ConversationRef<Details>, _part: ReplyPart, since: number) => {
        looked.push(since);
        return undefined;
      },
    } satisfies Adapter<Details>;
    await expect(postReply(adapter, ref, { text: 'hello' }, { key: 'job-r:1', markers })).rejects.toThrow('503');
    expect(await markers.get(partKey('refuses', 'job-r:1', 0))).toBeUndefined();
    expect((await postReply(adapter, ref, { text: 'hello' }, { key: 'job-r:1', markers })).ids).toEqual(['id-2']);
    expect(looked).toEqual([]);
  });

  it('a refused part clears this run\'s marks on the parts after it too: the retry looks for none of them', async () => {
    markers = new MemoryStore();
    let calls = 0;
    const looked: number[] = [];
    const { adapter: base } = partsAdapter();
    const adapter = {
      ...base,
      platform: 'refuses-first',
      sendPart: async (conversation: ConversationRef<Details>, text: string, part: ReplyPart) => {
        if (++calls === 1) throw new Error('503 from the platform');
        return base.sendPart(conversation, text, part);
      },
      findPart: async (_conversation: ConversationRef<Details>, part: ReplyPart) => {
        looked.push(part.index);
        return undefined;
      },
    } satisfies Adapter<Details>;
    expect(replyParts(adapter, long).length).toBeGreaterThan(2);
    await expect(postReply(adapter, ref, { text: long }, { key: 'job-m:1', markers })).rejects.toThrow('503');
    await postReply(adapter, ref, { text: long }, { key: 'job-m:1', markers });
    expect(looked).toEqual([]);
  });
});

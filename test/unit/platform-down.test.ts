/**
 * A platform that answered a 5xx is down for now (platformDown): a wait the queue holds, grown as
 * for one that could not be reached, with no attempt spent. A 503's Retry-After is waited as it
 * says. A post a gateway answered 502 or 504 may have been taken: the wait says so (`maybePosted`),
 * is never retried in place, and the retry looks on the platform before posting again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RetryAfterError, type Adapter, type ReplyPart } from '../../src/adapter.js';
import { PLATFORM_UNREACHABLE_WAIT_MS, isPlatformDown, mayHaveBeenPosted, platformDown, waitOutRetryAfter } from '../../src/adapter-kit.js';
import { waitOrGiveUp } from '../../src/failure.js';
import { guessedWait, isPlatformWait, platformUnreachable } from '../../src/platform-unreachable.js';
import { keys } from '../../src/jobs.js';
import type { ConversationRef } from '../../src/message.js';
import { postReply } from '../../src/replies.js';
import { MemoryStore } from '../../src/store/index.js';

let markers: MemoryStore;
afterEach(async () => markers?.close());

describe('platformDown', () => {
  it('any 5xx is down for now: a wait of PLATFORM_UNREACHABLE_WAIT_MS the queue holds (never a worker in place)', () => {
    for (const status of [500, 501, 503, 520, 599]) {
      expect(isPlatformDown(status)).toBe(true);
      const wait = platformDown('the API', status, { posting: true });
      expect(wait).toBeInstanceOf(RetryAfterError);
      expect(wait).toMatchObject({ retryAfterMs: PLATFORM_UNREACHABLE_WAIT_MS, inPlace: false, maybePosted: false });
      expect(wait.message).toContain(`the API answered HTTP ${status}`);
    }
    expect([499, 429, 600, 302].some(isPlatformDown)).toBe(false);
  });

  it('a platform down or unreachable is told from the other waits (for parley_platform_waits_total): a 429, an AI wait, a Redis refusing writes are not', () => {
    for (const wait of [platformDown('the API', 503), platformDown('the API', 503, { retryAfterMs: 2000 }), platformDown('the API', 502, { posting: true }), platformUnreachable('the API', 'ECONNREFUSED')]) {
      expect(isPlatformWait(wait), wait.message).toBe(true);
    }
    // An adapter with a copy of parley of its own: its error's field, not its class.
    expect(isPlatformWait(Object.assign(new Error('the API answered HTTP 503'), { code: 'parley_retry_after', retryAfterMs: 5000, platformDown: true }))).toBe(true);
    for (const other of [new RetryAfterError('Slack rate limit', 2000), guessedWait('Redis refuses writes for now (OOM)'), new Error('HTTP 503')]) expect(isPlatformWait(other)).toBe(false);
  });

  it("a gateway's 502 or 504 on a post may have been taken; on another call it says nothing of the kind", () => {
    for (const status of [502, 504]) {
      expect(platformDown('the API', status, { posting: true })).toMatchObject({ inPlace: false, maybePosted: true });
      expect(platformDown('the API', status)).toMatchObject({ inPlace: false, maybePosted: false });
      expect(mayHaveBeenPosted(platformDown('the API', status, { posting: true }))).toBe(true);
    }
    expect(mayHaveBeenPosted(platformDown('the API', 500, { posting: true }))).toBe(false);
  });

  it("a Retry-After is waited as it says (in place when short, at least a second), except on a post that may have been taken", () => {
    expect(platformDown('the API', 503, { posting: true, retryAfterMs: 3000 })).toMatchObject({ retryAfterMs: 3000, inPlace: true, maybePosted: false });
    expect(platformDown('the API', 503, { retryAfterMs: 0 })).toMatchObject({ retryAfterMs: 1000, inPlace: true });
    expect(platformDown('the API', 502, { posting: true, retryAfterMs: 3000 })).toMatchObject({ retryAfterMs: 3000, inPlace: false, maybePosted: true });
  });

  it('grows with the outage as an unreachable platform does, and AI_MAX_WAIT_MS ends it', async () => {
    const store = new MemoryStore();
    await store.set(keys.waiting('job-down'), String(Date.now() - 20_000));
    const later = await waitOrGiveUp(store, 'job-down', platformDown('the API', 500), 3_600_000);
    expect(later).toBeInstanceOf(RetryAfterError);
    expect((later as RetryAfterError).retryAfterMs).toBeGreaterThanOrEqual(20_000);
    const given = await waitOrGiveUp(store, 'job-down', platformDown('the API', 500), 10_000);
    expect(given).toMatchObject({ name: 'PermanentError', reason: 'max_wait' });
    await store.close();
  });

  it('a wait that may have been taken is never waited out in place, whatever it asks', async () => {
    let calls = 0;
    const maybe = new RetryAfterError('gateway', 10, { maybePosted: true, inPlace: true });
    expect(maybe.inPlace).toBe(false);
    await expect(
      waitOutRetryAfter(async () => {
        calls++;
        throw maybe;
      }),
    ).rejects.toBe(maybe);
    expect(calls).toBe(1);
  });

  it("is told from another copy of parley's error by its code and fields", () => {
    const copy = Object.assign(new Error('gateway'), { code: 'parley_retry_after', retryAfterMs: 5000, maybePosted: true });
    expect(mayHaveBeenPosted(copy)).toBe(true);
    expect(mayHaveBeenPosted(Object.assign(new Error('down'), { code: 'parley_retry_after', retryAfterMs: 5000 }))).toBe(false);
  });
});

interface Details {
  room: string;
}
const ref: ConversationRef<Details> = { platform: 'gw', id: 'r1', details: { room: 'lobby' } };

/** An adapter whose first post fails with `first`; the rest are posted. It counts its looks. */
function failingOnce(first: Error) {
  const sent: string[] = [];
  const looked: number[] = [];
  const adapter = {
    platform: 'gw',
    path: '/gw',
    contentTypes: ['application/json'],
    receive: async () => ({ response: { status: 200 }, messages: [] }),
    sendPart: async (_conversation: ConversationRef<Details>, text: string) => {
      sent.push(text);
      if (sent.length === 1) throw first;
      return `id-${sent.length}`;
    },
    // The platform has the first post (its gateway passed it on before failing).
    findPart: async (_conversation: ConversationRef<Details>, _part: ReplyPart, since: number) => {
      looked.push(since);
      return 'id-1';
    },
  } satisfies Adapter<Details>;
  return { adapter, sent, looked };
}

describe('a post the platform answered with a 5xx', () => {
  it('a 502 on the post: the retry looks on the platform first, finds it, and does not post it again', async () => {
    markers = new MemoryStore();
    const { adapter, sent, looked } = failingOnce(platformDown('the API', 502, { posting: true }));
    await expect(postReply(adapter, ref, { text: 'hello there' }, { key: 'job-g:1', markers })).rejects.toMatchObject({ maybePosted: true });
    const retry = await postReply(adapter, ref, { text: 'hello there' }, { key: 'job-g:1', markers });
    expect(retry.ids).toEqual(['id-1']);
    expect(sent).toEqual(['hello there']);
    expect(looked).toHaveLength(1);
  });

  it('a 500 says it failed: the retry posts without looking', async () => {
    markers = new MemoryStore();
    const { adapter, sent, looked } = failingOnce(platformDown('the API', 500, { posting: true }));
    await expect(postReply(adapter, ref, { text: 'hello there' }, { key: 'job-h:1', markers })).rejects.toBeInstanceOf(RetryAfterError);
    await postReply(adapter, ref, { text: 'hello there' }, { key: 'job-h:1', markers });
    expect(sent).toEqual(['hello there', 'hello there']);
    expect(looked).toHaveLength(0);
  });

  it('the look failing with the platform still down: the job waits again rather than risk a second copy', async () => {
    markers = new MemoryStore();
    const { adapter, sent } = failingOnce(platformDown('the API', 504, { posting: true }));
    await expect(postReply(adapter, ref, { text: 'hello there' }, { key: 'job-i:1', markers })).rejects.toMatchObject({ maybePosted: true });
    const stillDown = { ...adapter, findPart: async () => Promise.reject(platformDown('the API', 503)) };
    await expect(postReply(stillDown, ref, { text: 'hello there' }, { key: 'job-i:1', markers })).rejects.toBeInstanceOf(RetryAfterError);
    expect(sent).toEqual(['hello there']);
  });
});

/**
 * The web chat's shared transcript poll on a real Redis, as two processes see it: the one serving
 * the event streams follows a conversation once for all its streams, reading only the newest item
 * while nothing changes, and sees what the other (a worker) writes: an answer, the same answer
 * again at the transcript's cap, an erase.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Transcripts, type TranscriptEntry } from '../../adapters/web/transcript.js';
import { TranscriptWatch, type TranscriptFeed } from '../../adapters/web/watch.js';
import { RedisStore } from '../../src/store/index.js';
import { uniquePrefix, useRedis, waitFor } from './redis-helpers.js';

const prefix = uniquePrefix();
const redis = useRedis(prefix);
const POLL_MS = 20;
const feeds: TranscriptFeed[] = [];
afterAll(() => feeds.splice(0).forEach((feed) => feed.close()));

/** The texts a feed shows now. */
const texts = async (feed: TranscriptFeed) => (await feed.latest())?.messages.map((m) => m.text);

describe('TranscriptWatch on Redis', () => {
  it('one poll for all streams of a conversation, reading the whole transcript only when it changed, across processes', async () => {
    const [servingRedis, workerRedis] = [await redis.connection(), await redis.connection()];
    const serving = new RedisStore(servingRedis, `${prefix}:`);
    let whole = 0;
    let newest = 0;
    const listRange = serving.listRange.bind(serving);
    serving.listRange = (key, start, stop) => {
      if (start === 0 && stop === -1) whole++;
      if (start === -1 && stop === -1) newest++;
      return listRange(key, start, stop);
    };
    const watch = new TranscriptWatch(new Transcripts(serving, 60_000, 2), POLL_MS);
    const worker = new Transcripts(new RedisStore(workerRedis, `${prefix}:`), 60_000, 2);
    const answer: TranscriptEntry = { role: 'assistant', text: 'same', at: new Date().toISOString(), kind: 'answer' };
    await worker.append('c1', { role: 'user', text: 'hi', at: answer.at });

    feeds.push(...Array.from({ length: 3 }, () => watch.follow('c1')));
    expect(watch.polled).toBe(1);
    for (const feed of feeds) expect(await texts(feed)).toEqual(['hi']);
    expect(whole).toBe(1);
    // Idle: polls look at the newest item only.
    await waitFor(() => newest >= 5, 5000, 'five polls');
    expect(whole).toBe(1);

    // The worker's answer, then the very same answer again at the cap (2 entries): each is seen.
    await worker.append('c1', answer);
    await waitFor(async () => (await texts(feeds[0]!))?.join() === 'hi,same', 5000, 'the answer');
    const seen = (await feeds[0]!.latest())!.version;
    await worker.append('c1', answer);
    await waitFor(async () => (await feeds[0]!.latest())!.version !== seen, 5000, 'the repeated answer');
    expect(await texts(feeds[2]!)).toEqual(['same', 'same']);

    // Erased elsewhere: the streams see it empty.
    await worker.erase('c1');
    await waitFor(async () => (await texts(feeds[1]!))?.length === 0, 5000, 'the erase');

    // The last stream gone, the poll stops.
    feeds.splice(0).forEach((feed) => feed.close());
    expect(watch.polled).toBe(0);
    const after = newest;
    await new Promise((resolve) => setTimeout(resolve, 10 * POLL_MS));
    expect(newest).toBe(after);
  });
  it('a change that came while a stream was busy (sending, checking its owner) wakes its next wait at once, not at its next heartbeat', async () => {
    const [servingRedis, workerRedis] = [await redis.connection(), await redis.connection()];
    const watch = new TranscriptWatch(new Transcripts(new RedisStore(servingRedis, `${prefix}:`), 60_000, 10), POLL_MS);
    const worker = new Transcripts(new RedisStore(workerRedis, `${prefix}:`), 60_000, 10);
    const at = new Date().toISOString();
    await worker.append('c2', { role: 'user', text: 'hi', at });
    const [busy, other] = [watch.follow('c2'), watch.follow('c2')];
    feeds.push(busy, other);
    const before = (await busy.latest())!.version;
    expect((await other.latest())!.version).toBe(before);
    // The answer lands while `busy` is between its look and its wait: the poll's wake finds no waiter of it.
    await worker.append('c2', { role: 'assistant', text: 'answer', at, kind: 'answer' });
    await waitFor(async () => (await other.latest())!.version !== before, 5000, 'the poll to see the answer');
    // Its wait then (until the next heartbeat, 15 s) ends at once: the change is there to send. A hang guard decides otherwise.
    const left = new AbortController();
    const guard = setTimeout(() => left.abort(), 5000);
    await busy.changed(60_000, left.signal);
    clearTimeout(guard);
    expect(left.signal.aborted).toBe(false);
    expect(await texts(busy)).toEqual(['hi', 'answer']);
  });
});

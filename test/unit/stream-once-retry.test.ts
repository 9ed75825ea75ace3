/**
 * A stream that never started (nothing shown), its answer posted as ordinary parts, and the job
 * failing after a part may have reached the user (a post that timed out, a "sent" marker not
 * written): the retry finishes that answer and streams no second one.
 */
import { describe, expect, it } from 'vitest';
import { MaybePostedError } from '../../src/adapter.js';
import { MemoryStore } from '../../src/index.js';
import { streamOnce } from '../../src/send-once.js';
import { silentLogger } from './helpers.js';

const conversation = { platform: 'fake', id: 'c1', details: {} };
const chunksOf = (text: string) => (async function* () { yield text; })();

function world(opts: { restParts: 1 | 2; failure: 'maybe-posted' | 'sent-marker-write' }) {
  const screen: string[] = [];
  let streams = 0;
  let posts = 0;
  const base = new MemoryStore();
  let failSent = opts.failure === 'sent-marker-write';
  const store = new Proxy(base, {
    get(target, prop, receiver) {
      if (prop === 'set') return async (key: string, ...rest: unknown[]) => {
        if (failSent && key.startsWith('parley:sent:')) { failSent = false; throw new Error('store blip'); }
        return (target.set as (...args: unknown[]) => Promise<void>)(key, ...rest);
      };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const adapter = {
    platform: 'fake',
    maxChars: 100,
    // run 1: the stream never starts (nothing shown), everything is the rest; run 2: the stream works
    stream: async (_c: unknown, chunks: AsyncIterable<string>) => {
      let text = '';
      for await (const c of chunks) text += c;
      if (streams++ === 0) return { ids: [], text, rest: text };
      screen.push(`[streamed] ${text}`);
      return { ids: ['s1'], text };
    },
    sendPart: async (_c: unknown, text: string) => {
      posts++;
      screen.push(`[posted] ${text}`); // the platform takes it
      if (opts.failure === 'maybe-posted' && posts === 1) throw new MaybePostedError('timeout after the request went out');
      return `p${posts}`;
    },
    findPart: async (_c: unknown, _p: unknown, _since: number, text: string) => (screen.includes(`[posted] ${text}`) ? 'found' : undefined),
  };
  const deps = { store, adapterFor: () => adapter, logger: silentLogger, metrics: { repliesSent: { inc() {} }, repliesFailed: { inc() {} } } } as never;
  return { screen, deps };
}

const FIRST = (parts: 1 | 2) => (parts === 1 ? 'first answer, short' : `${'a'.repeat(90)} ${'b'.repeat(90)}`);

describe.each([
  [1, 'maybe-posted'],
  [1, 'sent-marker-write'],
  [2, 'maybe-posted'],
  [2, 'sent-marker-write'],
] as const)('stream never started, rest of %s post(s), first run fails by %s', (restParts, failure) => {
  it('the retry shows no second answer, and the first is there once', async () => {
    const { screen, deps } = world({ restParts, failure });
    const first = FIRST(restParts);
    await expect(streamOnce(deps, 'job-1', 1, conversation, chunksOf(first))).rejects.toThrow();
    await streamOnce(deps, 'job-1', 1, conversation, chunksOf('SECOND, different answer from the retried AI call')).catch((e) => screen.push(`[retry threw] ${e}`));
    expect(screen.filter((s) => s.startsWith('[streamed]'))).toEqual([]);
    expect(screen.filter((s) => s.startsWith('[retry threw]'))).toEqual([]);
  });
});

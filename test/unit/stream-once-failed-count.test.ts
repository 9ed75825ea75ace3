/**
 * `parley_replies_failed_total` and a stream the AI broke: the AI's failure is not a failed reply,
 * but the platform's own failure in that stream (thrown, or reported with `platformFailed` while
 * the AI's failure is thrown) is one, counted once.
 */
import { describe, expect, it } from 'vitest';
import { AiError } from '../../src/ai/errors.js';
import { MemoryStore, type SendOptions } from '../../src/index.js';
import { streamOnce } from '../../src/send-once.js';
import { silentLogger } from './helpers.js';

const conversation = { platform: 'fake', id: 'c1', details: {} };
const platformRefusal = new Error('the platform refused the stop');

/** The AI gives some text, then its connection breaks. */
const brokenChunks = (failure: AiError) =>
  (async function* () {
    yield 'some text';
    throw failure;
  })();

/** `then` decides what the adapter does once the AI's stream has failed under it. */
function world(then: (aiFailure: unknown, options: SendOptions | undefined) => never) {
  const failed: string[] = [];
  const adapter = {
    platform: 'fake',
    stream: async (_c: unknown, chunks: AsyncIterable<string>, options?: SendOptions) => {
      try {
        for await (const chunk of chunks) void chunk;
      } catch (aiFailure) {
        then(aiFailure, options);
      }
      throw new Error('the AI was meant to fail');
    },
  };
  const metrics = { repliesSent: { inc() {} }, repliesFailed: { inc: ({ platform }: { platform: string }) => void failed.push(platform) } };
  const deps = { store: new MemoryStore(), adapterFor: () => adapter, logger: silentLogger, metrics } as never;
  return { failed, run: () => streamOnce(deps, 'job-1', 1, conversation, brokenChunks(new AiError('connection', 'stream cut', { retryable: false }))) };
}

describe('a stream the AI broke, in parley_replies_failed_total', () => {
  it('the adapter throws the AI failure: no failed reply', async () => {
    const { failed, run } = world((aiFailure) => {
      throw aiFailure;
    });
    await expect(run()).rejects.toBeInstanceOf(AiError);
    expect(failed).toEqual([]);
  });

  it('the adapter throws its own error wrapping the AI failure (as its cause): no failed reply', async () => {
    const { failed, run } = world((aiFailure) => {
      throw new Error('the stream broke', { cause: aiFailure });
    });
    await expect(run()).rejects.toThrow('the stream broke');
    expect(failed).toEqual([]);
  });

  it("the adapter throws the platform's own failure (finishing the broken stream): one failed reply", async () => {
    const { failed, run } = world(() => {
      throw platformRefusal;
    });
    await expect(run()).rejects.toBe(platformRefusal);
    expect(failed).toEqual(['fake']);
  });

  it("the adapter throws the AI failure and reports the platform's (twice): one failed reply", async () => {
    const { failed, run } = world((aiFailure, options) => {
      options?.platformFailed?.(platformRefusal);
      options?.platformFailed?.(platformRefusal);
      throw aiFailure;
    });
    await expect(run()).rejects.toBeInstanceOf(AiError);
    expect(failed).toEqual(['fake']);
  });
});

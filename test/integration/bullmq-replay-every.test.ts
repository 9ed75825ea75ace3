/**
 * "Replay all" on Redis (`replayEvery` over a BullQueue, which replays several conversations at
 * once): every dead letter, those a worker gave up and those recorded directly, is queued once, and
 * each conversation's are answered in their order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../../src/errors.js';
import { replayEvery } from '../../src/queue/index.js';
import { bullQueue, letter, queueTestKit } from '../helpers/queue.js';
import { uniquePrefix, waitFor } from './redis-helpers.js';

const kit = queueTestKit();
afterEach(() => kit.cleanup());

describe('replayEvery on a BullQueue', () => {
  it('queues every letter once and keeps each conversation’s order', async () => {
    const queue = kit.track(bullQueue(uniquePrefix()), 2000);
    const answered: string[] = [];
    let failing = true;
    queue.process(
      async (job) => {
        if (failing) throw new PermanentError('not now', 'test_refused');
        answered.push(`${job.group} ${job.data.n}`);
      },
      { concurrency: 8 },
    );
    // Two conversations given up by the worker, in order.
    for (let n = 0; n < 3; n++) for (const group of ['w1', 'w2']) await queue.add({ id: `${group}-${n}`, group, data: { n } });
    await waitFor(async () => (await queue.deadLetters()).length === 6, 10_000, 'the worker to give up six jobs');
    // Twenty more conversations recorded directly, five letters each.
    const start = Date.now();
    for (let n = 0; n < 5; n++) for (let g = 0; g < 20; g++) await queue.addDeadLetter(letter(`d${g}-${n}`, { group: `d${g}`, data: { n }, failedAt: new Date(start + n * 100 + g).toISOString() }));
    expect((await queue.deadLetters()).length).toBe(106);

    failing = false;
    expect(await replayEvery(queue)).toBe(106);
    await waitFor(() => answered.length === 106, 20_000, 'every replayed letter to be answered');
    expect(new Set(answered).size).toBe(106);
    for (const group of ['w1', 'w2', ...Array.from({ length: 20 }, (_, g) => `d${g}`)]) {
      const ns = answered.filter((line) => line.startsWith(`${group} `)).map((line) => Number(line.split(' ')[1]));
      expect(ns).toEqual(group.startsWith('w') ? [0, 1, 2] : [0, 1, 2, 3, 4]);
    }
    expect(await queue.deadLetters()).toEqual([]);
  }, 40_000);
});

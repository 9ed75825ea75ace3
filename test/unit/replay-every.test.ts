/**
 * `replayEvery` (the console's "Replay all" and `parley dlq replay --all` on a queue with no
 * `replayAll` of its own: memory and Redis) replays several conversations' letters at once, since
 * one at a time took a minute for 3,000 on Redis, and each conversation's letters one after
 * another, oldest first, so they queue in their order.
 */
import { describe, expect, it } from 'vitest';
import { replayEvery, type DeadLetter } from '../../src/queue/index.js';

type Data = { n: number };

function letters(groups: number, each: number): DeadLetter<Data>[] {
  const all: DeadLetter<Data>[] = [];
  for (let n = 0; n < each; n++) {
    for (let g = 0; g < groups; g++) {
      all.push({ id: `g${g}-${n}`, group: `g${g}`, data: { n }, error: 'Error', reason: 'attempts_exhausted', failedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n * groups + g)).toISOString() });
    }
  }
  return all;
}

/** A queue whose replays each wait a turn of the event loop, recording their order and overlap. */
function fakeQueue(dead: DeadLetter<Data>[], refuse = new Set<string>(), fail = new Set<string>()) {
  const replayed: string[] = [];
  const started: string[] = [];
  let running = 0;
  let mostAtOnce = 0;
  return {
    replayed,
    started,
    running: () => running,
    mostAtOnce: () => mostAtOnce,
    deadLetters: async () => dead,
    replay: async (id: string) => {
      started.push(id);
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      if (fail.has(id)) throw new Error('Connection is closed.');
      if (refuse.has(id)) return false;
      replayed.push(id);
      return true;
    },
  };
}

describe('replayEvery', () => {
  it('replays several conversations at once, each one’s letters in order, oldest first', async () => {
    const queue = fakeQueue(letters(40, 5));
    expect(await replayEvery(queue)).toBe(200);
    expect(queue.mostAtOnce()).toBeGreaterThan(1);
    expect(queue.mostAtOnce()).toBeLessThanOrEqual(16);
    expect(new Set(queue.replayed).size).toBe(200);
    for (let g = 0; g < 40; g++) {
      expect(queue.replayed.filter((id) => id.startsWith(`g${g}-`))).toEqual([0, 1, 2, 3, 4].map((n) => `g${g}-${n}`));
    }
  });

  it('replays only the letters kept, and counts only those the queue replayed', async () => {
    const queue = fakeQueue(letters(3, 4), new Set(['g1-2']));
    const replayed = await replayEvery(queue, (letter) => letter.group !== 'g0');
    expect(replayed).toBe(7);
    expect(queue.replayed.filter((id) => id.startsWith('g0-'))).toEqual([]);
    expect(queue.replayed.filter((id) => id.startsWith('g1-'))).toEqual(['g1-0', 'g1-1', 'g1-3']);
  });

  it('a replay that fails ends the pass: no letter starts after it, and the failure is told once none is under way', async () => {
    const queue = fakeQueue(letters(40, 5), new Set(), new Set(['g3-1']));
    const failure = await replayEvery(queue).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(queue.running()).toBe(0);
    // Those under way when it failed end; none starts after (one at a time, it stopped there too).
    expect(queue.started.length).toBeLessThanOrEqual(queue.started.indexOf('g3-1') + 16);
    expect(queue.started.length).toBeLessThan(200);
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.running()).toBe(0);
    expect(queue.started.length).toBeLessThan(200);
  });

  it('uses the queue’s own replayAll where it has one', async () => {
    const queue = { ...fakeQueue(letters(2, 2)), replayAll: async () => 42 };
    expect(await replayEvery(queue)).toBe(42);
    expect(queue.replayed).toEqual([]);
  });

  it('replays nothing from an empty dead-letter list', async () => {
    const queue = fakeQueue([]);
    expect(await replayEvery(queue)).toBe(0);
  });
});

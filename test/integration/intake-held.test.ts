/**
 * A worker's intake pump keeps nothing of what its commands answered: each read (its entries), each
 * reclaim and each count was raced against the pump's stop, a promise pending for the pump's life,
 * and every race left a reaction on it holding that command's result, so a worker's heap grew with
 * every message it moved and every idle look (found by a long-run growth audit: one reaction per
 * command, thousands after 10,000 messages, rooted at IntakePump). Real Redis; fails without it.
 */
import { Queue } from 'bullmq';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { IntakePump } from '../../src/queue/intake.js';
import { sleep, uniquePrefix, useRedis, waitFor } from './redis-helpers.js';

const prefix = uniquePrefix();
const redis = useRedis(prefix);

describe('the intake pump', () => {
  it("lets go of each command's answer while it runs", async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const bull = new Queue('messages', { connection: { host: '127.0.0.1', port: 6379 }, prefix });
    const writer = await redis.connection();
    let collected = 0;
    let answered = 0;
    const registry = new FinalizationRegistry(() => void collected++);
    const pump = new IntakePump({
      url: 'redis://127.0.0.1:6379',
      key: `${prefix}:intake`,
      queue: bull,
      writer,
      jobOptions: {},
      enteringKeys: () => [],
      onError: () => undefined,
      reclaimIdleMs: 100, // a reclaim, with its FORGET, every 50 ms
      keepQueued: 4,
      queued: async () => 0,
    });
    // What the pump's FORGET answers, each registered: a command's answer, as a read's entries are.
    (writer as unknown as { parleyIntakeForget: () => Promise<unknown> }).parleyIntakeForget = async () => {
      const answer = { entries: 'x'.repeat(10_000), n: ++answered };
      registry.register(answer, answered);
      return answer;
    };
    const ANSWERS = 40;
    try {
      pump.start();
      await waitFor(() => answered >= ANSWERS, 10_000, 'the pump to look for orphans 40 times');
      // Still running: the answers it has seen must be collectable now, not once it stops.
      for (let round = 0; round < 50 && collected < ANSWERS - 5; round++) {
        gc();
        await sleep(10);
      }
      expect(collected).toBeGreaterThanOrEqual(ANSWERS - 5);
    } finally {
      await pump.stop();
      await bull.close();
    }
  });
});

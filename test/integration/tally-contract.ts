/**
 * The Tally contract, shared by every implementation (memory, Redis, DynamoDB): totals, fractions,
 * concurrent adds, and expiry pushed out by each add.
 */
import { describe, expect, it } from 'vitest';
import type { Tally } from '../../src/ops/tally.js';
import { until } from '../helpers/until.js';

export function describeTallyContract(implementations: [string, () => Promise<Tally>][]): void {
  describe.each(implementations)('%s', (_name, create) => {
    it('add resolves to the totals of the fields it was given, and read returns every field', async () => {
      const tally = await create();
      expect(await tally.add('k', { a: 1, b: 2 }, 60_000)).toEqual({ a: 1, b: 2 });
      expect(await tally.add('k', { a: 3 }, 60_000)).toEqual({ a: 4 });
      expect(await tally.read('k')).toEqual({ a: 4, b: 2 });
      expect(await tally.read('other')).toEqual({});
    });

    it('fractions of a cent add up', async () => {
      const tally = await create();
      for (let i = 0; i < 10; i++) await tally.add('usd', { total: 0.1, tiny: 0.0000048 }, 60_000);
      const totals = await tally.read('usd');
      expect(totals.total).toBeCloseTo(1, 9);
      expect(totals.tiny).toBeCloseTo(0.000048, 12);
    });

    it('concurrent adds are not lost', async () => {
      const tally = await create();
      await Promise.all(Array.from({ length: 40 }, () => tally.add('n', { hits: 1 }, 60_000)));
      expect(await tally.read('n')).toEqual({ hits: 40 });
    });

    it('a hash goes once its ttl has passed since the last add', async () => {
      const tally = await create();
      // Long enough for the read right after to land inside it on a loaded CI machine (40 ms and
      // 400 ms did not, once each).
      await tally.add('short', { n: 1 }, 2000);
      expect(await tally.read('short')).toEqual({ n: 1 });
      await until(async () => Object.keys(await tally.read('short')).length === 0, 'the hash to expire', 6000);
      // Starts afresh afterwards.
      expect(await tally.add('short', { n: 1 }, 60_000)).toEqual({ n: 1 });
    });

    it('each add pushes the expiry out', async () => {
      const tally = await create();
      // The second add must land inside the first's TTL, also on a loaded emulator (40 ms was not enough).
      const first = Date.now();
      await tally.add('kept', { n: 1 }, 2000);
      expect(await tally.add('kept', { n: 1 }, 60_000)).toEqual({ n: 2 }); // inside the first TTL
      await new Promise((resolve) => setTimeout(resolve, first + 2100 - Date.now())); // past the first TTL
      expect(await tally.read('kept')).toEqual({ n: 2 });
    });
  });
}

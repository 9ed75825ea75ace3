/**
 * Scenarios run step by step on another Store and on a MemoryStore, which must give the same
 * results: every list range, trimmed pushes, a history-shaped list, values and claims.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore, type Store } from '../../src/store/index.js';

/** One step against a Store, and what it returned (for comparing two implementations). */
type Operation =
  | { op: 'push'; key: string; values: string[]; maxLength?: number; ttlMs?: number }
  | { op: 'range'; key: string; start: number; stop: number }
  | { op: 'set'; key: string; value: string }
  | { op: 'claim'; key: string; value: string }
  | { op: 'get'; key: string }
  | { op: 'delete'; key: string };

async function apply(target: Store, step: Operation): Promise<unknown> {
  switch (step.op) {
    case 'push':
      return target.listPush(step.key, step.values, { ...(step.maxLength === undefined ? {} : { maxLength: step.maxLength }), ...(step.ttlMs === undefined ? {} : { ttlMs: step.ttlMs }) });
    case 'range':
      return target.listRange(step.key, step.start, step.stop);
    case 'set':
      return target.set(step.key, step.value);
    case 'claim':
      return target.setIfAbsent(step.key, step.value);
    case 'get':
      return target.get(step.key);
    case 'delete':
      return target.delete(step.key);
  }
}

/** Every (start, stop) pair in [-len-2, len+1]: all the in-range, negative and out-of-range cases. */
function everyRange(key: string, length: number): Operation[] {
  const steps: Operation[] = [];
  for (let start = -length - 2; start <= length + 1; start++) {
    for (let stop = -length - 2; stop <= length + 1; stop++) steps.push({ op: 'range', key, start, stop });
  }
  return steps;
}

const history: Operation[] = [
  ...Array.from({ length: 25 }, (_, i): Operation => ({ op: 'push', key: 'history', values: [`user ${i + 1}`, `bot ${i + 1}`], maxLength: 20, ttlMs: 60_000 })),
  // the window the history reads: the newest N, oldest first
  ...[1, 2, 5, 20, 30].map((n): Operation => ({ op: 'range', key: 'history', start: -n, stop: -1 })),
  { op: 'range', key: 'history', start: 0, stop: 0 },
];

const scenarios: Array<{ name: string; steps: Operation[] }> = [
  {
    name: 'a list of five, every range',
    steps: [{ op: 'push', key: 'five', values: ['a', 'b', 'c'] }, { op: 'push', key: 'five', values: ['d', 'e'] }, ...everyRange('five', 5)],
  },
  {
    name: 'a one-item list and a missing list, every range',
    steps: [{ op: 'push', key: 'one', values: ['only'] }, ...everyRange('one', 1), ...everyRange('none', 0)],
  },
  {
    name: 'trimmed pushes',
    steps: [
      { op: 'push', key: 't', values: ['1', '2', '3', '4', '5'], maxLength: 3 },
      { op: 'range', key: 't', start: 0, stop: -1 },
      { op: 'push', key: 't', values: ['6'], maxLength: 3 },
      { op: 'range', key: 't', start: 0, stop: -1 },
      { op: 'push', key: 't', values: ['7', '8'], maxLength: 1 },
      { op: 'range', key: 't', start: 0, stop: -1 },
      { op: 'push', key: 't', values: ['9', '10', '11'] },
      { op: 'range', key: 't', start: 0, stop: -1 },
      { op: 'push', key: 't', values: ['12', '13', '14', '15'], maxLength: 4 },
      ...everyRange('t', 4),
      { op: 'delete', key: 't' },
      { op: 'range', key: 't', start: 0, stop: -1 },
      { op: 'push', key: 't', values: ['fresh'], maxLength: 2 },
      { op: 'range', key: 't', start: 0, stop: -1 },
    ],
  },
  { name: 'a history-shaped list (capped, with a TTL), read as the history reads it', steps: history },
  {
    name: 'values and claims',
    steps: [
      { op: 'get', key: 'v' },
      { op: 'claim', key: 'v', value: 'first' },
      { op: 'claim', key: 'v', value: 'second' },
      { op: 'get', key: 'v' },
      { op: 'set', key: 'v', value: 'third' },
      { op: 'get', key: 'v' },
      { op: 'claim', key: 'v', value: 'fourth' },
      { op: 'delete', key: 'v' },
      { op: 'get', key: 'v' },
      { op: 'claim', key: 'v', value: 'fifth' },
      { op: 'get', key: 'v' },
      { op: 'set', key: 'empty-string', value: '' },
      { op: 'get', key: 'empty-string' },
      { op: 'claim', key: 'empty-string', value: 'x' },
      { op: 'set', key: 'unicode ключ 🔑', value: 'välue ✓' },
      { op: 'get', key: 'unicode ключ 🔑' },
    ],
  },
];

/**
 * The scenarios on `other` and on a MemoryStore, step by step: the two must give the same results.
 * `track` receives the memory store so the file can close it.
 */
export function describeSameAsMemory(name: string, other: () => Promise<Store>, track: (store: Store) => void): void {
  describe(`MemoryStore and ${name} give the same results for the same operations`, () => {
    it.each(scenarios)('$name', async ({ steps }) => {
      const store = await other();
      const inMemory = new MemoryStore();
      track(inMemory);
      const fromOther: unknown[] = [];
      const fromMemory: unknown[] = [];
      for (const step of steps) {
        fromOther.push(await apply(store, step));
        fromMemory.push(await apply(inMemory, step));
      }
      const differences = steps
        .map((step, i) => ({ step, [name]: fromOther[i], memory: fromMemory[i] }))
        .filter((_, i) => JSON.stringify(fromOther[i]) !== JSON.stringify(fromMemory[i]));
      expect(differences).toEqual([]);
    });
  });
}

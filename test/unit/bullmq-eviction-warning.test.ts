import { afterEach, describe, expect, it, vi } from 'vitest';
import { withoutEvictionWarning } from '../../src/queue/bullmq-eviction-warning.js';

describe('withoutEvictionWarning', () => {
  const warn = console.warn;
  afterEach(() => {
    console.warn = warn;
  });

  it('drops only BullMQ\'s eviction line, and only until the start-up settles', async () => {
    const seen = vi.fn();
    console.warn = seen;
    let started!: () => void;
    withoutEvictionWarning(new Promise<void>((resolve) => (started = resolve)));
    console.warn('IMPORTANT! Eviction policy is allkeys-lru. It should be "noeviction"');
    console.warn('something else', 42);
    expect(seen.mock.calls).toEqual([['something else', 42]]);
    started();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(console.warn).toBe(seen);
  });
});

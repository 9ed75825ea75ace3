/**
 * bot.afterAnswers() waits for what the store goes on with in the background (DynamoStore: a claim
 * taken back after its ack deadline), as a serverless function must before it is frozen.
 */
import { expect, it, vi } from 'vitest';
import { createBot } from '../../src/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { FakeAdapter } from './helpers.js';

/** A store with work of its own under way until the test finishes it. */
class BusyStore extends MemoryStore {
  asked = 0;
  private finishWork!: () => void;
  private readonly work = new Promise<void>((resolve) => (this.finishWork = resolve));

  settled(): Promise<void> {
    this.asked++;
    return this.work;
  }

  finish(): void {
    this.finishWork();
  }
}

it('bot.afterAnswers() resolves only once the store has settled its background work', async () => {
  const store = new BusyStore();
  const bot = createBot({ adapters: [new FakeAdapter()], store, env: {}, config: { logLevel: 'silent', shutdownTimeoutMs: 100 } });
  try {
    let done = false;
    const after = bot.afterAnswers().then(() => void (done = true));
    await vi.waitFor(() => expect(store.asked).toBeGreaterThan(0));
    expect(done).toBe(false);
    store.finish();
    await after;
    expect(done).toBe(true);
  } finally {
    await bot.close();
  }
});

/**
 * Messages handed to the core outside an HTTP request (AdapterContext.deliver: Slack Socket Mode)
 * once the shutdown's drain has begun, on the in-process queue: refused (DrainingError) as a
 * webhook is, unless the adapter says it is the platform's last delivery (Socket Mode's third
 * retry), which a refusal would lose for sure.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DrainingError } from '../../src/accept.js';
import type { AdapterContext } from '../../src/adapter.js';
import { createBot, type Bot } from '../../src/index.js';
import { FakeAdapter, inbound } from './helpers.js';

/** Keeps its context; its stop() (Socket Mode's disconnect, an event still in hand) ends when the test says. */
class ContextKeepingAdapter extends FakeAdapter {
  context?: AdapterContext;
  release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));
  async start(context: AdapterContext): Promise<void> {
    this.context = context;
  }
  stop(): Promise<void> {
    return this.released;
  }
}

let adapter: ContextKeepingAdapter | undefined;
let closed: Promise<unknown> | undefined;
afterEach(async () => {
  adapter?.release();
  await closed;
  closed = undefined;
});

describe('AdapterContext.deliver once the drain has begun (in-process queue)', () => {
  it('refuses a delivery the platform sends again, and takes its last delivery', async () => {
    adapter = new ContextKeepingAdapter();
    const bot: Bot = createBot({ adapters: [adapter], env: {}, worker: false, config: { logLevel: 'silent', shutdownDelayMs: 0, shutdownTimeoutMs: 200 } });
    await bot.start();
    const context = adapter.context!;
    const drainBegun = new Promise((resolve) => context.closing.addEventListener('abort', resolve, { once: true }));
    closed = bot.close();
    await drainBegun;

    await expect(context.deliver([inbound()])).rejects.toBeInstanceOf(DrainingError);
    expect((await bot.queue.counts()).waiting).toBe(0);
    await context.deliver([inbound()], { lastDelivery: { id: 'Ev0LAST' } });
    expect((await bot.queue.counts()).waiting).toBe(1);
  });
});

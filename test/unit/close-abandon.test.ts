/**
 * bot.close() past SHUTDOWN_TIMEOUT_MS with replies under way: each adapter is asked to close what
 * would stay open on its platform (a Slack message streaming); not when every reply ended.
 */
import { describe, expect, it } from 'vitest';
import { closeWithin } from '../../src/bot-close.js';
import { MemoryQueue } from '../../src/queue/index.js';
import { silentLogger } from './helpers.js';

function parts(unfinishedJob: boolean) {
  const abandoned: string[] = [];
  const queue = new MemoryQueue<string>({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 });
  queue.process(async () => (unfinishedJob ? new Promise(() => undefined) : undefined), { concurrency: 1 });
  const adapter = { platform: 'slack', receive: async () => ({ response: { status: 200 }, messages: [] }), abandon: async () => void abandoned.push('slack') };
  return { abandoned, queue, closing: { servers: [], adapters: [adapter as never], queue, running: () => (unfinishedJob ? 1 : 0), release: async () => undefined, drop: async () => undefined, logger: silentLogger } };
}

describe('closing with replies under way', () => {
  it('asks the adapters to abandon them once the deadline has passed', async () => {
    const { abandoned, queue, closing } = parts(true);
    await queue.add({ id: 'j1', group: 'g', data: 'stalled' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await closeWithin(closing, 200)).unfinished).toBe(1);
    expect(abandoned).toEqual(['slack']);
  });

  it('does not when every reply ended in time', async () => {
    const { abandoned, queue, closing } = parts(false);
    await queue.add({ id: 'j1', group: 'g', data: 'quick' });
    expect((await closeWithin(closing, 200)).unfinished).toBe(0);
    expect(abandoned).toEqual([]);
  });
});

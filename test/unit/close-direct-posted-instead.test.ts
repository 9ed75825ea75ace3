/**
 * MODE=direct, past SHUTDOWN_TIMEOUT_MS: a message whose answer is still going on (its handler not
 * done) while its reply, which could not become the HTTP answer, is being posted instead is one
 * message unfinished, not two (the "… are lost" line names it once; `unfinished` said 2).
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createBot, NoProviderAiClient, type Bot, type HttpResponse } from '../../src/index.js';
import { MemoryTally } from '../../src/ops/tally.js';
import { FakeAdapter, waitFor } from './helpers.js';

/** A platform answered with its reply in the HTTP answer, which fails here: the reply is posted instead, and that post never ends. */
class PostedInsteadAdapter extends FakeAdapter {
  posting = 0;
  constructor() {
    super();
    this.beforeSend = () => (this.posting++, new Promise(() => undefined));
  }
  respondDirect(): HttpResponse {
    throw new Error('the reply does not fit the answer');
  }
}

/** A tally whose close never ends: bot.close() runs out of SHUTDOWN_TIMEOUT_MS. */
class StuckTally extends MemoryTally {
  close(): Promise<void> {
    return new Promise(() => undefined);
  }
}

let bot: Bot | undefined;
afterEach(() => void (bot = undefined));

describe('closing in direct mode past the deadline', () => {
  it('counts a message answered here and posted instead once', async () => {
    const lines: { msg: string; lost?: number; unfinished?: number }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const adapter = new PostedInsteadAdapter();
    bot = createBot({
      adapters: [adapter],
      env: {},
      logger,
      ai: new NoProviderAiClient(),
      tally: new StuckTally(),
      config: { mode: 'direct', directDeadlineMs: 100, shutdownTimeoutMs: 300 },
      // Replies, then goes on (a hand-off that does not answer): the answer is still under way.
      onMessage: async (_message, context) => {
        await context.reply('hello');
        await new Promise(() => undefined);
      },
    });
    const request = new Request('http://127.0.0.1/test/hook', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'm1', text: 'hi' }) });
    void bot.fetch(request);
    await waitFor(() => adapter.posting === 1, 5000, 'the reply to be posted instead');
    const { unfinished } = await bot.close();
    const lost = lines.find((line) => line.msg.includes('are lost'));
    expect(lost?.lost).toBe(1);
    expect(unfinished).toBe(1);
  });
});

/**
 * bot.unanswered() (what the CLI names on a second Ctrl-C or its last-resort exit, without waiting
 * for close()) marks the messages close()'s apology pass has already posted to, as close()'s own
 * "… are lost" line does: it marked none, so the two lines disagreed about who was told.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createBot, NoProviderAiClient } from '../../src/index.js';
import { conversation, FakeAdapter, inbound, waitFor } from './helpers.js';

describe('bot.unanswered() during the in-memory apology pass', () => {
  it('marks each message the pass posted to, as the closing line does', async () => {
    const lines: { msg: string; lost?: number; apologised?: number; messages?: { job: string; apologised?: true }[] }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const adapter = new FakeAdapter();
    let posts = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The first apology goes out; the second hangs until released (the exit comes meanwhile).
    adapter.beforeSend = () => (++posts === 2 ? gate : undefined);
    // No worker: both messages wait, never started, as a drain with no time for them leaves them.
    const bot = createBot({ adapters: [adapter], env: {}, logger, ai: new NoProviderAiClient(), worker: false, config: { shutdownTimeoutMs: 10_000 } });
    const first = inbound({ conversation: conversation('first') });
    const second = inbound({ conversation: conversation('second') });
    await bot.ingest(first);
    await bot.ingest(second);
    expect(bot.unanswered()).toHaveLength(2);
    const closed = bot.close();
    await waitFor(() => posts === 2 && adapter.sent.length === 1, 5000, 'one apology posted and the other under way');
    const told = adapter.sent[0]!.conversation.id;
    await waitFor(() => bot.unanswered().some((message) => message.apologised), 5000, 'the posted apology to show in bot.unanswered()');
    expect(bot.unanswered().map((message) => [message.conversation, message.apologised ?? false]).sort()).toEqual([[told, true], [told === 'first' ? 'second' : 'first', false]].sort());
    release();
    await closed;
    const lost = lines.find((line) => line.msg.includes('are lost'));
    expect(lost).toMatchObject({ lost: 2, apologised: 2 });
    expect(lost!.messages!.every((message) => message.apologised)).toBe(true);
    expect(bot.unanswered().every((message) => message.apologised)).toBe(true);
  });
});

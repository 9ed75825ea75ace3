/**
 * Under a burst Socket Mode cannot take (here the in-process queue full; Redis down goes the same
 * way), each event is left unacknowledged for Slack to redeliver, and the log says so once a minute
 * per kind, not once an event (README "Operations": summarised warnings). The lines were one an event.
 */
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lastUserText } from '../fakes/openai-server.js';
import { appMention } from '../helpers/slack-events.js';
import { startSocketBot, type SocketBot } from '../helpers/slack-socket-bot.js';
import { until } from '../helpers/until.js';

type Line = Record<string, unknown>;
const BURST = 30;
const NOT_TAKEN = 'Socket Mode event not taken; Slack will redeliver it';
let world: SocketBot | undefined;
let release: () => void = () => undefined;

afterEach(async () => {
  release();
  await world?.closeAll();
  world = undefined;
});

describe('Slack Socket Mode under a burst it cannot take', () => {
  it('leaves every event unacknowledged (Slack redelivers) and writes one error line, not one an event', async () => {
    const lines: Line[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
    // Over the per-user limit a message is acknowledged (and refused with a notice): no limit here.
    world = await startSocketBot(undefined, { logger, env: { QUEUE_MAX_MESSAGES: '1', LOG_LEVEL: 'debug', RATE_LIMIT_USER_PER_MINUTE: '0' } });
    const { bot, socket, ai } = world;
    // The one message the queue holds is held at the AI, so the queue stays full.
    const held = new Promise<void>((resolve) => (release = resolve));
    ai.script((call) => ({ text: `echo: ${lastUserText(call)}`, hold: held }));
    const adds = vi.spyOn(bot.queue, 'add');
    await socket.sendEvent(appMention({ text: 'the one the queue holds' }));
    await until(() => ai.calls.length === 1, 'the first message at the AI');

    const acks = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        socket.sendEvent(appMention({ text: `burst ${i}` }), { ackTimeoutMs: 1500 }).then(
          () => 'acked',
          () => 'not acked',
        ),
      ),
    );
    expect(acks).toEqual(Array(BURST).fill('not acked'));
    // Every one of the burst was offered to the queue and refused by it.
    await until(() => adds.mock.settledResults.filter((result) => result.type === 'rejected').length === BURST, 'the burst refused by the queue');
    await until(() => lines.some((line) => line.msg === NOT_TAKEN), 'the error line');
    const notTaken = lines.filter((line) => line.msg === NOT_TAKEN);
    expect(notTaken).toHaveLength(1);
    expect(notTaken[0]).toMatchObject({ level: 50, type: 'events_api', err: expect.objectContaining({ message: expect.stringContaining('Too many messages are waiting') }) });
    expect(notTaken[0]).not.toHaveProperty('leftOut');

    // A minute on, the next event not taken is written, saying how many were left out meanwhile.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61_000, shouldAdvanceTime: true });
    try {
      await socket.sendEvent(appMention({ text: 'a minute later' }), { ackTimeoutMs: 1500 }).catch(() => undefined);
      await until(() => lines.filter((line) => line.msg === NOT_TAKEN).length === 2, 'the next error line');
    } finally {
      vi.useRealTimers();
    }
    expect(lines.filter((line) => line.msg === NOT_TAKEN)[1]).toMatchObject({ level: 50, leftOut: BURST - 1 });
  });

  it("names each event not taken on Slack's last retry (lost: Slack sends it no more), never summarised", async () => {
    const lines: Line[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
    world = await startSocketBot(undefined, { logger, env: { QUEUE_MAX_MESSAGES: '1', RATE_LIMIT_USER_PER_MINUTE: '0' } });
    const { socket, ai } = world;
    const held = new Promise<void>((resolve) => (release = resolve));
    ai.script((call) => ({ text: `echo: ${lastUserText(call)}`, hold: held }));
    await socket.sendEvent(appMention({ text: 'the one the queue holds' }));
    await until(() => ai.calls.length === 1, 'the first message at the AI');
    // A first delivery not taken: summarised as before (Slack sends it again).
    await socket.sendEvent(appMention({ text: 'first delivery' }), { ackTimeoutMs: 1500 }).catch(() => undefined);
    await until(() => lines.some((line) => line.msg === NOT_TAKEN), 'the error line');
    const lastTries = [appMention({ text: 'last try 1' }), appMention({ text: 'last try 2' })];
    for (const event of lastTries) {
      await expect(socket.sendEvent(event, { ackTimeoutMs: 1500, retryAttempt: 3, retryReason: 'timeout' })).rejects.toThrow();
    }
    const lost = () => lines.filter((line) => String(line.msg).includes("Slack's last retry"));
    await until(() => lost().length === 2, 'a line for each event lost');
    expect(lost().map((line) => [line.level, line.event])).toEqual(lastTries.map((event) => [50, event.event_id]));
    expect(JSON.stringify(lost())).not.toContain('last try');
    expect(lines.filter((line) => line.msg === NOT_TAKEN)).toHaveLength(1);
  });
});

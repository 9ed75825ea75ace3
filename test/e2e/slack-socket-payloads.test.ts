/**
 * Slack Socket Mode envelopes whose payload does not fit: checked as the same payload is over HTTP
 * (adapters/slack/parse.ts), acknowledged so Slack does not redeliver it, dropped, logged and
 * counted as a refused webhook; the process stays up and the next event is answered.
 */
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CHANNEL_ID, appMention } from '../helpers/slack-events.js';
import { startSocketBot, type SocketBot } from '../helpers/slack-socket-bot.js';
import { until } from '../helpers/until.js';

interface Line {
  level: number;
  msg: string;
  platform?: string;
  reason?: string;
  status?: number;
}

const WARN = 40;

describe('Slack over Socket Mode: envelopes whose payload does not fit', () => {
  const lines: Line[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  let world: SocketBot;
  let queued: ReturnType<typeof vi.spyOn>;

  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
    world = await startSocketBot(undefined, { logger });
  });
  afterAll(async () => {
    await world?.closeAll();
  });
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
    queued = vi.spyOn(world.bot.queue, 'add');
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
    vi.restoreAllMocks();
  });

  const rejected = async (reason: string) =>
    (await world.bot.metrics.webhooksRejected.get()).values.find((v) => v.labels.platform === 'slack' && v.labels.reason === reason)?.value ?? 0;

  /** A valid mention after the bad envelope is still acknowledged and answered. */
  async function answersNextMention(text: string): Promise<void> {
    const before = world.slack.callsTo('chat.postMessage').length;
    const event = appMention({ text });
    await world.socket.sendEvent(event);
    const post = await until(() => world.slack.callsTo('chat.postMessage')[before], 'the reply to the next mention');
    expect(post.args).toMatchObject({ channel: CHANNEL_ID, thread_ts: event.event.ts, text: `echo: ${text}` });
  }

  it('acknowledges and drops a mention whose text is not a string, as over HTTP (warned, counted invalid_payload)', async () => {
    const counted = await rejected('invalid_payload');
    const bad = appMention({ text: 'replaced below' });
    const envelope = { ...bad, event: { ...bad.event, text: 12345 } };

    const ack = await world.socket.sendEvent(envelope, { ackTimeoutMs: 2000 });
    expect(ack.envelope_id).toBe(world.socket.sent.at(-1)!.envelope_id);
    expect(queued).not.toHaveBeenCalled();
    expect(await rejected('invalid_payload')).toBe(counted + 1);
    const warning = lines.filter((line) => line.level === WARN).at(-1);
    expect(warning).toMatchObject({ platform: 'slack', reason: 'invalid_payload', status: 200 });
    expect(warning!.msg).toMatch(/^The Slack app_mention event does not fit: text: .*Answered 200 and dropped/);

    await answersNextMention('after a text that was a number');
    expect(unhandled).toEqual([]);
  });

  it('survives an events_api envelope without an event: acknowledged, dropped, counted; the next event is answered', async () => {
    const counted = await rejected('invalid_payload');
    const { event: _event, ...withoutEvent } = appMention({ text: 'no event here' });

    const ack = await world.socket.sendEvent(withoutEvent, { ackTimeoutMs: 2000 });
    expect(ack.envelope_id).toBe(world.socket.sent.at(-1)!.envelope_id);
    expect(queued).not.toHaveBeenCalled();
    expect(await rejected('invalid_payload')).toBe(counted + 1);
    expect(lines.filter((line) => line.level === WARN).at(-1)).toMatchObject({ platform: 'slack', reason: 'invalid_payload', msg: expect.stringMatching(/^The Slack Events API payload does not fit: event/) });

    await answersNextMention('after an envelope without an event');
    expect(unhandled).toEqual([]);
    expect(world.socket.openConnections).toBe(1);
  });
});

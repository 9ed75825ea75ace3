/**
 * One message followed from its webhook to its answer in the log: the worker's "message answered"
 * line carries the webhook's request id (the caller's X-Request-Id, or the one parley made and
 * answered with), through the in-memory queue, through Redis (BullMQ), and in direct mode. Real
 * server; Slack and the AI faked over HTTP.
 */
import type { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';
import { REDIS_URL, deleteKeys, requireRedis, uniquePrefix } from '../integration/redis-helpers.js';

type Line = { msg: string; requestId?: string; job?: string };

const prefix = uniquePrefix();
const QUEUES: [string, Record<string, string>][] = [
  ['the in-memory queue', {}],
  ['Redis', { REDIS_URL, REDIS_PREFIX: prefix }],
  ['no queue (MODE=direct)', { MODE: 'direct' }],
];

for (const [name, env] of QUEUES) {
  describe(`the webhook's request id on its message's "message answered" line, on ${name}`, () => {
    let slack: FakeSlack;
    let ai: FakeOpenAi;
    let server: SlackBot;
    let admin: Redis | undefined;
    const lines: Line[] = [];

    beforeAll(async () => {
      if (env.REDIS_URL) admin = await requireRedis();
      slack = await startFakeSlack();
      ai = await startFakeOpenAi();
      const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
      server = await startSlackBot(slack, ai, env, undefined, { bot: { logger } });
    });
    afterEach(() => void (lines.length = 0));
    afterAll(async () => {
      await server?.close();
      await slack?.close();
      await ai?.close();
      if (admin) {
        await deleteKeys(admin, prefix);
        admin.disconnect();
      }
    });

    const answered = (count: number) => until(() => lines.filter((line) => line.msg === 'message answered').length >= count && lines.filter((line) => line.msg === 'message answered'), `${count} message(s) answered`, 10_000);

    it("carries the caller's X-Request-Id", async () => {
      const response = await postSlack(server.url, appMention({ text: 'which request am I?' }), { headers: { 'x-request-id': 'lb-trace-7f3a:1' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-request-id')).toBe('lb-trace-7f3a:1');
      expect(await answered(1)).toEqual([expect.objectContaining({ requestId: 'lb-trace-7f3a:1' })]);
    });

    it('carries the id parley made when the caller sent none, each message its own', async () => {
      const first = await postSlack(server.url, appMention({ text: 'first' }));
      const second = await postSlack(server.url, appMention({ text: 'second' }));
      const ids = [first.headers.get('x-request-id'), second.headers.get('x-request-id')];
      expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
      expect(ids[1]).not.toBe(ids[0]);
      expect((await answered(2)).map((line) => line.requestId).sort()).toEqual([...ids].sort());
    });
  });
}

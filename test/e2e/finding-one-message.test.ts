/**
 * Support's question, "why did the bot not answer me?", on Redis: one message given up after AI
 * failures is found in the console by what the customer knows (their channel), and one id, the
 * webhook's request id, ties its request line, the worker's lines, its dead letter and its console
 * entry together (README "Finding one message").
 */
import type { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterPage } from '../../src/console/api.js';
import type { ConversationEntry, ConversationSummary } from '../../src/index.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';
import { REDIS_URL, deleteKeys, requireRedis, uniquePrefix } from '../integration/redis-helpers.js';

const TOKEN = 'finding-one-message-admin-token';
type Line = Record<string, unknown>;

describe('finding one message on Redis', () => {
  const prefix = uniquePrefix();
  const lines: Line[] = [];
  let admin: Redis;
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;

  beforeAll(async () => {
    admin = await requireRedis();
    slack = await startFakeSlack();
    ai = await startFakeOpenAi((call) => (lastUserText(call).includes('fail') ? { status: 500, body: { error: { message: 'down' } } } : { text: `re: ${lastUserText(call)}` }));
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
    const env = { REDIS_URL, REDIS_PREFIX: prefix, ADMIN_TOKEN: TOKEN, JOB_ATTEMPTS: '1', AI_ATTEMPTS: '1', AI_BREAKER_THRESHOLD: '1000', RATE_LIMIT_USER_PER_MINUTE: '0' };
    server = await startSlackBot(slack, ai, env, undefined, { bot: { logger } });
  });
  afterAll(async () => {
    await server?.close();
    await Promise.all([slack?.close(), ai?.close()]);
    if (admin) {
      await deleteKeys(admin, prefix);
      admin.disconnect();
    }
  });

  const consoleApi = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${server.base}/console/api${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };

  it('finds it by its channel, and its request id ties the request line, the worker, the dead letter and the console entry', async () => {
    // Another customer's conversation beside it, answered: the search must tell them apart.
    expect((await postSlack(server.url, appMention({ text: 'hello', channel: 'C0OTHER', user: 'U0OTHER' }))).status).toBe(200);
    const event = appMention({ text: 'please fail', channel: 'C0CUSTOMER', user: 'U0CUSTOMER' });
    const sent = await postSlack(server.url, event);
    expect(sent.status).toBe(200);
    const requestId = sent.headers.get('x-request-id')!;
    const requestLine = (id: string | null) => until(() => lines.find((line) => line.msg === 'request' && line.requestId === id), `the request line of ${id}`);
    // Its request line says it was queued; Slack's retry of it, a 200 too, says it was a duplicate.
    expect(await requestLine(requestId)).toMatchObject({ status: 200, outcome: 'queued' });
    const retried = await postSlack(server.url, event, { retryNum: 1 });
    expect(await requestLine(retried.headers.get('x-request-id'))).toMatchObject({ status: 200, outcome: 'duplicate' });

    const found = await until(async () => {
      const { conversations } = await consoleApi<{ conversations: ConversationSummary[] }>('/conversations?conversation=C0CUSTOMER');
      return conversations.length > 0 && conversations;
    }, 'the conversation in the console');
    expect(found.map((c) => c.user)).toEqual(['U0CUSTOMER']);
    const { entries } = await consoleApi<{ entries: ConversationEntry[] }>(`/conversations/${encodeURIComponent(found[0]!.conversationId)}`);
    expect(entries).toMatchObject([{ outcome: 'apologised', requestId }]);

    const givenUp = lines.find((line) => line.msg === 'message given up');
    expect(givenUp).toMatchObject({ requestId, conversation: found[0]!.conversationId });
    const { deadLetters } = await consoleApi<DeadLetterPage>('/dead-letters');
    expect(deadLetters).toMatchObject([{ id: givenUp!.job, payload: { requestId } }]);
    // And back: the request id finds the conversation.
    const byRequest = await consoleApi<{ conversations: ConversationSummary[] }>(`/conversations?conversation=${encodeURIComponent(requestId)}`);
    expect(byRequest.conversations.map((c) => c.conversationId)).toEqual([found[0]!.conversationId]);
    // An answered message's entry carries its request id as well, and is found by it or by its job id.
    const answered = lines.find((line) => line.msg === 'message answered')!;
    for (const id of ['c0other', String(answered.requestId), String(answered.job)]) {
      const { conversations } = await consoleApi<{ conversations: ConversationSummary[] }>(`/conversations?conversation=${encodeURIComponent(id)}`);
      expect(conversations.map((c) => c.conversationId), id).toEqual([answered.conversation]);
    }
    const other = await consoleApi<{ entries: ConversationEntry[] }>(`/conversations/${encodeURIComponent(String(answered.conversation))}`);
    expect(other.entries).toMatchObject([{ id: answered.job, requestId: answered.requestId }]);
  });
});

/**
 * Intercom topics beyond the ones parley acts on, signed as Intercom signs them: a teammate's
 * internal note, Fin or a workflow (the operator) replying, the conversation assigned to the bot's
 * own admin. None is answered, none hands the conversation to a person, and each is acknowledged
 * with a 200 and at most a debug line; the customer's next message is still answered, once.
 */
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { intercomAdapter, intercomConfigFromEnv } from '../../adapters/intercom/index.js';
import { createBot, loadConfig, type Bot } from '../../src/index.js';
import { startFakeIntercom, type FakeIntercom } from '../fakes/intercom-api.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { DEFAULT_CLIENT_SECRET, adminAssigned, adminReplied, botAuthor, conversationId, otherTopic, part, postIntercom, userReplied, type Notification } from '../helpers/intercom-events.js';
import { testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

const HUMAN_ADMIN = '5150';
const quiet = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

/** `notification` under another topic, its one part changed. */
function retopic(notification: Notification, topic: string, change: Record<string, unknown>): Notification {
  const item = notification.data.item as { conversation_parts: { conversation_parts: Record<string, unknown>[] } };
  item.conversation_parts.conversation_parts = item.conversation_parts.conversation_parts.map((p) => ({ ...p, ...change }));
  return { ...notification, topic };
}

describe('Intercom: topics that are not a customer writing', () => {
  let intercom: FakeIntercom;
  let ai: FakeOpenAi;
  let bot: Bot;
  let url: string;
  const lines: string[] = [];
  beforeAll(async () => {
    intercom = await startFakeIntercom();
    ai = await startFakeOpenAi();
    const env = { ...testEnv, OPENAI_BASE_URL: ai.url, INTERCOM_ACCESS_TOKEN: 'dG9rOnBhcmxleS10ZXN0LXRva2Vu', INTERCOM_CLIENT_SECRET: DEFAULT_CLIENT_SECRET, INTERCOM_API_URL: intercom.url };
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    bot = createBot({ config: loadConfig(env), adapters: [intercomAdapter(intercomConfigFromEnv(env)!)], logger });
    const server = await bot.listen(0, '127.0.0.1');
    await bot.ready;
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/intercom/webhook`;
  });
  afterAll(async () => {
    await bot.close();
    await intercom.close();
    await ai.close();
  });

  it('a note, Fin or a workflow replying, an assignment to the bot: nothing answered, no handover; the customer still answered after, once', async () => {
    const replies = (c: string) => intercom.callsTo('reply').filter((call) => call.conversationId === c);
    const cases: ((c: string) => Notification)[] = [
      (c) => retopic(adminReplied({ conversation: c, adminId: HUMAN_ADMIN, body: '<p>internal: VIP customer</p>' }), 'conversation.admin.noted', { part_type: 'note' }),
      (c) => retopic(adminReplied({ conversation: c, adminId: HUMAN_ADMIN, body: '<p>Fin here: try resetting it.</p>' }), 'conversation.operator.replied', { author: botAuthor() }),
      (c) => adminAssigned({ conversation: c, adminId: HUMAN_ADMIN, assignee: intercom.adminId }),
      (c) => otherTopic('conversation.admin.snoozed', c),
      (c) => otherTopic('conversation_part.tag.created', c),
    ];
    const conversations: string[] = [];
    lines.length = 0;
    for (const make of cases) {
      const conversation = conversationId();
      conversations.push(conversation);
      const res = await postIntercom(url, make(conversation));
      expect(res.status).toBe(200);
    }
    await quiet();
    expect(intercom.callsTo('reply')).toEqual([]);
    expect(ai.calls).toEqual([]);
    // Nothing at info or above but each request's own line (at info for every request, README "Logs").
    expect(lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level >= 30 && line.msg !== 'request')).toEqual([]);
    for (const conversation of conversations) {
      await postIntercom(url, userReplied({ conversation, parts: [part('<p>so, any news?</p>')] }));
      await until(() => replies(conversation)[0], `the answer in ${conversation}`);
    }
    await quiet();
    for (const conversation of conversations) expect(replies(conversation)).toHaveLength(1);
  });
});

/**
 * Handing an Intercom conversation over to people, as the README promises: the bot answers once
 * with HANDOFF_REPLY, assigns the team once and says nothing more — also when two requests for a
 * person arrive at the same time (each notification is taken on its own, so they race for the
 * hand-over). And the request is read in what the customer wrote: a link's address or a pasted
 * URL naming "human-resources" or "/agents" is not one. Memory and Redis stores (a real Redis,
 * under a key prefix of its own); Intercom and the AI faked over HTTP.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { intercomAdapter, intercomConfigFromEnv } from '../../adapters/intercom/index.js';
import { escapeHtml } from '../../adapters/intercom/markdown-html.js';
import { createBot, loadConfig, variables, type Bot } from '../../src/index.js';
import { startFakeIntercom, type FakeIntercom } from '../fakes/intercom-api.js';
import { lastUserText, startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { DEFAULT_CLIENT_SECRET, conversationId, part, postIntercom, userCreated, userReplied } from '../helpers/intercom-events.js';
import { until } from '../helpers/until.js';
import { testEnv } from '../helpers/web-bot.js';
import { REDIS_URL, uniquePrefix, useRedis } from '../integration/redis-helpers.js';

const TEAM_ID = '4242';
const HANDOFF_REPLY = `<p>${escapeHtml(variables.HANDOFF_REPLY.default)}</p>`;
const quiet = (ms = 500) => new Promise((resolve) => setTimeout(resolve, ms));

async function startBot(intercom: FakeIntercom, ai: FakeOpenAi, env: Record<string, string>): Promise<{ bot: Bot; url: string }> {
  const allEnv: Record<string, string> = {
    ...testEnv,
    OPENAI_BASE_URL: ai.url,
    INTERCOM_ACCESS_TOKEN: 'dG9rOnBhcmxleS10ZXN0LXRva2Vu',
    INTERCOM_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    INTERCOM_API_URL: intercom.url,
    INTERCOM_HANDOFF_TEAM_ID: TEAM_ID,
    RATE_LIMIT_USER_PER_MINUTE: '0',
    ...env,
  };
  const bot = createBot({ config: loadConfig(allEnv), adapters: [intercomAdapter(intercomConfigFromEnv(allEnv)!)] });
  const server = await bot.listen(0, '127.0.0.1');
  await bot.ready;
  return { bot, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/intercom/webhook` };
}

const redisPrefix = uniquePrefix();

// The race of two requests only happens across Redis round trips: with the memory store the test is
// a check that one process still hands over once (test/unit/intercom-adapter.test.ts races stopForHandoff itself).
describe.each(['memory', 'Redis'])('Intercom handoff (%s store)', (store) => {
  if (store === 'Redis') useRedis(redisPrefix);
  let intercom: FakeIntercom;
  let ai: FakeOpenAi;
  let bot: Bot;
  let url: string;
  beforeAll(async () => {
    intercom = await startFakeIntercom();
    ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call)}` }));
    const env: Record<string, string> = store === 'Redis' ? { REDIS_URL, REDIS_PREFIX: redisPrefix } : {};
    ({ bot, url } = await startBot(intercom, ai, env));
  });
  afterAll(async () => {
    await bot?.close();
    await intercom?.close();
    await ai?.close();
  });
  afterEach(() => intercom.reset());

  const replies = (conversation: string) => intercom.callsTo('reply').filter((c) => c.conversationId === conversation);
  const assignments = (conversation: string) => intercom.callsTo('parts').filter((c) => c.conversationId === conversation);

  /**
   * A customer asks for a person in a new conversation whose first assignment Intercom takes but answers
   * 500 (as a worker killed after its POST leaves it): the job waits for Intercom (5 s, no attempt
   * spent) and is retried. Resolves once the retry has read the conversation and its own retries
   * (backoff 20 ms) have run, with the handoff reply and the conversation's assignment parts to check.
   */
  async function handoffWithRetriedAssignment(): Promise<{ conversation: string; replied: unknown[]; assignmentParts: number }> {
    intercom.on('parts', (_call, n) => (n === 0 ? { status: 500, taken: true } : undefined));
    const conversation = conversationId();
    await postIntercom(url, userReplied({ conversation, parts: [part('<p>talk to someone please</p>')] }));
    await until(() => assignments(conversation)[0], 'the assignment');
    await until(() => intercom.callsTo('conversation').some((c) => c.conversationId === conversation), "the retry's read of the conversation", 15_000);
    await quiet(1500);
    return { conversation, replied: replies(conversation).map((c) => c.body.body), assignmentParts: intercom.partsOf(conversation).filter((p) => p.part_type === 'assignment').length };
  }

  it('two requests for a person at the same time: one HANDOFF_REPLY and one assignment, then silence', async () => {
    const conversations = Array.from({ length: 5 }, () => conversationId());
    await Promise.all(
      conversations.map((conversation) =>
        Promise.all([
          postIntercom(url, userReplied({ conversation, parts: [part('<p>human please</p>')] })),
          postIntercom(url, userReplied({ conversation, parts: [part('<p>I want an agent!</p>')] })),
        ]),
      ),
    );
    for (const conversation of conversations) await until(() => assignments(conversation)[0], `the assignment in ${conversation}`);
    await quiet();
    for (const conversation of conversations) {
      expect(replies(conversation).map((c) => c.body.body)).toEqual([HANDOFF_REPLY]);
      expect(assignments(conversation).map((c) => c.body.assignee_id)).toEqual([TEAM_ID]);
    }
    expect(ai.calls).toHaveLength(0);
  });

  it('an assignment Intercom took but answered 5xx (or a worker killed after posting it) is not made again by the retry', async () => {
    const { replied, assignmentParts } = await handoffWithRetriedAssignment();
    expect(replied).toEqual([HANDOFF_REPLY]);
    // The conversation shows one assignment to the team, not two (the old code's retry posted a second).
    expect(assignmentParts).toBe(1);
  });

  it("the retry's read of the conversation answered with a proxy's page (a 2xx, no conversation) is not read as \"not assigned\": no second assignment", async () => {
    // The retry's GET of the conversation gets a proxy's HTML page once: the old code took it for "not assigned".
    intercom.on('conversation', (_call, n) => (n === 0 ? { raw: '<html><body>Bad gateway</body></html>' } : undefined));
    const { conversation, replied, assignmentParts } = await handoffWithRetriedAssignment();
    expect(replied).toEqual([HANDOFF_REPLY]);
    expect(assignmentParts).toBe(1);
    // It was read again on a later retry (the conversation then), which found the team had it.
    expect(intercom.callsTo('conversation').filter((c) => c.conversationId === conversation).length).toBeGreaterThanOrEqual(2);
  });

  it("a link's address or a pasted URL naming a person is not a request for one; asking in words still is", async () => {
    const link = conversationId();
    await postIntercom(url, userCreated({ conversation: link, body: '<p>The <a href="https://help.example.com/human-resources/payroll">payroll page</a> gives a 404</p>' }));
    const pasted = conversationId();
    await postIntercom(url, userCreated({ conversation: pasted, body: '<p>see https://x.com/agents</p>' }));
    const asked = conversationId();
    await postIntercom(url, userCreated({ conversation: asked, body: '<p>can I talk to a human</p>' }));
    // Answered by the AI, which still reads the addresses.
    expect((await until(() => replies(link)[0], 'the answer about the link')).body.body).toContain('echo: The payroll page');
    expect((await until(() => replies(pasted)[0], 'the answer about the URL')).body.body).toContain('echo: see');
    expect(ai.calls.map(lastUserText)).toEqual(expect.arrayContaining(['The payroll page (https://help.example.com/human-resources/payroll) gives a 404', 'see https://x.com/agents']));
    await until(() => assignments(asked)[0], 'the assignment of the request');
    await quiet();
    expect(assignments(link)).toEqual([]);
    expect(assignments(pasted)).toEqual([]);
    expect(replies(asked).map((c) => c.body.body)).toEqual([HANDOFF_REPLY]);
  });
});

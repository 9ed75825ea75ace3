/**
 * The AI provider's content filter blocks the answer (finish_reason content_filter, no text) or the
 * prompt (Azure's 400 content_filter): asking again would be blocked again, and billed. The AI is
 * asked once, the user gets one short apology of its own (not "try again in a little while"), the
 * message is dead-lettered as ai_content_filtered at once, and one warn line says why, without the
 * message's text. Real server; Slack and the AI faked over HTTP.
 */
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { startFakeOpenAi, type FakeOpenAi, type ScriptedAnswer } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../fakes/slack-api.js';
import { metricValue } from '../helpers/ops.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { startWebBot } from '../helpers/web-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

type Line = { level: number; msg: string };

let slack: FakeSlack | undefined;
let ai: FakeOpenAi | undefined;
let server: SlackBot | undefined;
const lines: Line[] = [];
const raw: string[] = [];
afterEach(async () => {
  await server?.close();
  await slack?.close();
  await ai?.close();
  server = slack = ai = undefined;
});

async function start(answer: ScriptedAnswer, env: Record<string, string> = {}) {
  lines.length = raw.length = 0;
  slack = await startFakeSlack();
  ai = await startFakeOpenAi(() => answer);
  const logger = pino({ level: 'debug' }, { write: (line: string) => void (raw.push(line), lines.push(JSON.parse(line) as Line)) });
  server = await startSlackBot(slack, ai, { JOB_ATTEMPTS: '3', AI_ATTEMPTS: '3', ...env }, undefined, { bot: { logger } });
  return { slack, ai, server };
}

const textOf = (call: SlackCall) => String(call.args.text ?? call.args.markdown_text ?? '');
const SECRET = 'a question the filter blocks';

/** One AI call, the one short apology, the dead letter, the metrics, one warn line and no text above debug. */
async function expectFilteredOnce(world: { slack: FakeSlack; ai: FakeOpenAi; server: SlackBot }, warned: RegExp) {
  const { slack, ai, server } = world;
  const letters = await until(async () => ((await server.bot.queue.deadLetters()).length ? server.bot.queue.deadLetters() : undefined), 'the dead letter', 10_000);
  expect(letters.map((letter) => letter.reason)).toEqual(['ai_content_filtered']);
  const posts = await until(() => (slack.callsTo('chat.postMessage').length ? slack.callsTo('chat.postMessage') : undefined), 'the apology', 10_000);
  await new Promise((resolve) => setTimeout(resolve, 300)); // room for a retry or a second post to show up
  expect(slack.callsTo('chat.postMessage').map(textOf)).toEqual(["Sorry — I can't help with that one."]);
  expect(posts).toHaveLength(1);
  expect(ai.calls).toHaveLength(1);
  expect(await metricValue(server.bot.metrics, 'parley_ai_errors_total', { kind: 'content_filtered' })).toBe(1);
  expect(await metricValue(server.bot.metrics, 'parley_ai_calls_total', { outcome: 'content_filtered' })).toBe(1);
  expect(await metricValue(server.bot.metrics, 'parley_dead_lettered_total', { platform: 'slack', reason: 'ai_content_filtered' })).toBe(1);
  const warnings = raw.filter((line, i) => lines[i]!.level >= 40 && /content.filter/.test(line));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(warned);
  expect(raw.filter((line, i) => lines[i]!.level > 20 && line.includes(SECRET))).toEqual([]);
}

it('an answer filtered with no text: asked once, its own apology, dead-lettered ai_content_filtered', async () => {
  const world = await start({ text: '', finishReason: 'content_filter' });
  await postSlack(world.server.url, appMention({ text: SECRET }));
  await expectFilteredOnce(world, /finish_reason content_filter/);
});

it('streamed (SLACK_STREAMING=on): no stream is started, the same apology, asked once', async () => {
  const world = await start({ text: '', finishReason: 'content_filter' }, { SLACK_STREAMING: 'on' });
  await postSlack(world.server.url, appMention({ text: SECRET }));
  await expectFilteredOnce(world, /finish_reason content_filter/);
  expect(world.slack.callsTo('chat.startStream')).toEqual([]);
});

it("a prompt Azure's filter refused (400 content_filter): the same apology and reason", async () => {
  const refusal = {
    message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
    type: null,
    param: 'prompt',
    code: 'content_filter',
    status: 400,
    innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: { violence: { filtered: true, severity: 'high' } } },
  };
  const world = await start({ status: 400, body: { error: refusal } });
  await postSlack(world.server.url, appMention({ text: SECRET }));
  await expectFilteredOnce(world, /content management policy/);
});

it('an answer filtered after some text: that text is posted, nothing dead-lettered', async () => {
  const world = await start({ text: 'The first part', finishReason: 'content_filter' });
  await postSlack(world.server.url, appMention({ text: 'hello' }));
  const posts = await until(() => (world.slack.callsTo('chat.postMessage').length ? world.slack.callsTo('chat.postMessage') : undefined), 'the reply', 10_000);
  expect(textOf(posts[0]!)).toBe('The first part');
  expect(await world.server.bot.queue.deadLetters()).toEqual([]);
});

it('web chat: the apology in the transcript, asked once, dead-lettered ai_content_filtered', async () => {
  ai = await startFakeOpenAi(() => ({ text: '', finishReason: 'content_filter' }));
  const web = await startWebBot({ OPENAI_BASE_URL: ai.url, JOB_ATTEMPTS: '3', AI_ATTEMPTS: '3' });
  try {
    await web.post('filtered', SECRET);
    const entries = await web.waitFor('filtered', (e) => e.some((entry) => entry.role === 'assistant'));
    expect(entries.filter((entry) => entry.role === 'assistant').map((entry) => [entry.kind, entry.text])).toEqual([['apology', "Sorry — I can't help with that one."]]);
    const letters = await until(async () => ((await web.bot.queue.deadLetters()).length ? web.bot.queue.deadLetters() : undefined), 'the dead letter', 10_000);
    expect(letters.map((letter) => letter.reason)).toEqual(['ai_content_filtered']);
    expect(ai.calls).toHaveLength(1);
  } finally {
    await web.close();
  }
});

/**
 * A conversation outgrows a small model's context (a vLLM serving 600 tokens): its first refusal
 * names the context length, and from then on each message's history is cut to fit beforehand, so
 * each later message makes one call, not a refused one and then a shorter one. An output limit the
 * model cannot give (OPENAI_MAX_OUTPUT_TOKENS at its context) is a setting to fix: the user gets
 * the usual apology, not "your message is too long", and the log says so at error level. Real
 * server; Slack and the AI faked over HTTP.
 */
import { afterEach, expect, it } from 'vitest';
import pino from 'pino';
import { startFakeOpenAi, lastUserText, type ChatCall, type FakeOpenAi, type ScriptedAnswer } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { appMention, directMessage, nextSlackTs, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

const CONTEXT = 600;

let world: { slack: FakeSlack; ai: FakeOpenAi; server: SlackBot } | undefined;
afterEach(async () => {
  await world?.server.close();
  await world?.slack.close();
  await world?.ai.close();
  world = undefined;
});

type Line = { level: number; msg: string; [key: string]: unknown };

async function start(ai: (call: ChatCall) => ScriptedAnswer, env: Record<string, string> = {}) {
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });
  const slack = await startFakeSlack();
  const fake = await startFakeOpenAi(ai);
  world = { slack, ai: fake, server: await startSlackBot(slack, fake, env, undefined, { bot: { logger } }) };
  return { ...world, lines };
}

/** About a token for every four characters, a few more for each message's framing, and the output asked for. */
function tokensOf(call: ChatCall): number {
  const body = call.body as ChatCall['body'] & { max_tokens?: number; max_completion_tokens?: number };
  const input = body.messages.reduce((sum, m) => sum + Math.ceil(String(m.content).length / 4) + 6, 0);
  return input + (body.max_tokens ?? body.max_completion_tokens ?? 0);
}

/** vLLM with --max-model-len 600: refuses a request whose input and output limit do not fit. */
function smallVllm(call: ChatCall): ScriptedAnswer {
  const needed = tokensOf(call);
  if (needed <= CONTEXT) return { text: `echo: ${lastUserText(call)}` };
  const message = `This model's maximum context length is ${CONTEXT} tokens. However, you requested ${needed} tokens in the messages. Please reduce the length of the messages.`;
  return { status: 400, body: { object: 'error', message, type: 'BadRequestError', param: null, code: 400 } };
}

const question = (i: number) => `question ${i}: ${'tell me more about the weather in the hills '.repeat(4)}`;

it.each([
  ['answered in one message', {}],
  ['streamed (SLACK_STREAMING=on)', { SLACK_STREAMING: 'on' }],
])('%s: after the first refusal names the context, each message makes one call', async (_name, env) => {
  const { slack, ai, server, lines } = await start(smallVllm, { OPENAI_MAX_OUTPUT_TOKENS: '100', ...env });
  const threadTs = nextSlackTs();
  const streamed = 'SLACK_STREAMING' in env;
  const answered = () => (streamed ? slack.callsTo('chat.stopStream') : slack.callsTo('chat.postMessage')).length;
  const callsPerMessage: number[] = [];
  for (let i = 0; i < 12; i++) {
    const before = ai.calls.length;
    await postSlack(server.url, streamed ? appMention({ text: question(i), threadTs }) : directMessage({ text: question(i) }));
    await until(() => answered() > i || undefined, `answer ${i + 1}`, 10_000);
    callsPerMessage.push(ai.calls.length - before);
  }
  const firstRefused = callsPerMessage.findIndex((calls) => calls > 1);
  // The conversation did outgrow the context: one message was refused, then answered with less.
  expect(firstRefused).toBeGreaterThan(0);
  expect(callsPerMessage[firstRefused]).toBe(2);
  // Every message after it: one call, fitting (none refused), with some history still sent.
  expect(callsPerMessage.slice(firstRefused + 1)).toEqual(Array(11 - firstRefused).fill(1));
  const later = ai.calls.slice(-3);
  expect(later.every((call) => tokensOf(call) <= CONTEXT)).toBe(true);
  expect(later.every((call) => call.body.messages.length > 2)).toBe(true);
  expect(await server.bot.queue.deadLetters()).toEqual([]);
  // Said once, at info, with the budget to set.
  const learnt = lines.filter((line) => /reads at most 600 tokens/.test(line.msg));
  expect(learnt).toHaveLength(1);
  expect(learnt[0]).toMatchObject({ level: 30, model: 'gpt-4o-mini', contextTokens: 600 });
  expect(learnt[0]!.msg).toMatch(/set HISTORY_TOKEN_BUDGET to about \d+ \(it is 3000\)/);
});

it('OPENAI_MAX_OUTPUT_TOKENS at the context (vLLM refuses max_tokens): the usual apology, one call, an error naming the setting', async () => {
  const refusal = (call: ChatCall): ScriptedAnswer => {
    const input = tokensOf(call) - 4096;
    const message = `'max_tokens' or 'max_completion_tokens' is too large: 4096. This model's maximum context length is 4096 tokens and your request has ${input} input tokens (4096 > 4096 - ${input}). None`;
    return { status: 400, body: { error: { message, type: 'BadRequestError', param: null, code: 400 } } };
  };
  const { slack, ai, server, lines } = await start(refusal, { OPENAI_MAX_OUTPUT_TOKENS: '4096', JOB_ATTEMPTS: '3' });
  await postSlack(server.url, directMessage({ text: 'hi' }));
  const [apology] = await until(() => (slack.callsTo('chat.postMessage').length ? slack.callsTo('chat.postMessage') : undefined), 'the apology', 10_000);
  expect(String(apology!.args.text)).toContain('try again in a little while');
  expect(String(apology!.args.text)).not.toMatch(/longer than I can read/);
  expect(ai.calls).toHaveLength(1);
  const letters = await until(async () => ((await server.bot.queue.deadLetters()).length ? server.bot.queue.deadLetters() : undefined), 'the dead letter', 10_000);
  expect(letters.map((letter) => letter.reason)).toEqual(['ai_client']);
  expect(letters[0]!.error).toMatch(/OPENAI_MAX_OUTPUT_TOKENS/);
  const said = lines.filter((line) => line.level === 50 && /OPENAI_MAX_OUTPUT_TOKENS=4096/.test(line.msg));
  expect(said).toHaveLength(1);
  expect(said[0]).toMatchObject({ model: 'gpt-4o-mini', maxOutputTokens: 4096, contextTokens: 4096 });
});

/**
 * The model refuses a message as longer than it reads (OpenAI's 400 context_length_exceeded): it
 * is dead-lettered at once as ai_input_too_long, and the user is asked for a shorter message, not
 * told to try again later (which could never work). Real server; Slack and the AI faked over HTTP.
 */
import { expect, it } from 'vitest';
import { slackWorldPerTest } from '../helpers/slack-bot.js';
import { lastUserText } from '../fakes/openai-server.js';
import { appMention, directMessage, nextSlackTs, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

const start = slackWorldPerTest();

const tooLong = {
  status: 400,
  body: {
    error: {
      message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 600010 tokens. Please reduce the length of the messages.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    },
  },
};

it.each([
  ['OpenAI (code context_length_exceeded)', tooLong],
  ['a compatible server that says it in words', { status: 400, body: { error: { message: 'prompt is too long: 210000 tokens > 200000 maximum', type: 'invalid_request_error' } } }],
  // vLLM (before 0.9) writes its error at the top level, not under `error`; FastAPI-built servers as `detail`.
  ['vLLM\'s top-level { "object": "error", "message" }', { status: 400, body: { object: 'error', message: "This model's maximum context length is 4096 tokens. However, you requested 5120 tokens (4096 in the messages, 1024 in the completion).", type: 'BadRequestError', param: null, code: 400 } }],
  ['a FastAPI-built server\'s { "detail" }', { status: 400, body: { detail: 'Input is too long for this model: 5120 tokens, 4096 allowed' } }],
  // A proxy's 413 page in front of the model: no JSON, no wording to read.
  ['a proxy\'s bare 413 "Request Entity Too Large"', { status: 413, body: 'Request Entity Too Large', headers: { 'content-type': 'text/plain' } }],
])('%s: dead-lettered as ai_input_too_long, and the user is asked for a shorter message', async (_name, refusal) => {
  const { slack, ai, server } = await start({ ai: () => refusal, env: { JOB_ATTEMPTS: '3' } });
  await postSlack(server.url, appMention({ text: 'a very long paste' }));
  const [apology] = await until(() => (slack.callsTo('chat.postMessage').length ? slack.callsTo('chat.postMessage') : undefined), 'the apology', 10_000);
  expect(String(apology!.args.text)).toMatch(/longer than I can read at once.*shorter/);
  expect(ai.calls).toHaveLength(1);
  // The apology goes out before the queue has buried the job: wait for its dead letter.
  const letters = await until(async () => ((await server.bot.queue.deadLetters()).length ? server.bot.queue.deadLetters() : undefined), 'the dead letter', 10_000);
  expect(letters.map((letter) => letter.reason)).toEqual(['ai_input_too_long']);
});

it('another 400 keeps the usual apology and reason', async () => {
  const { slack, server } = await start({ ai: () => ({ status: 400, body: { error: { message: "Invalid value for 'temperature'", type: 'invalid_request_error' } } }), env: { JOB_ATTEMPTS: '3' } });
  await postSlack(server.url, appMention({ text: 'hello' }));
  const [apology] = await until(() => (slack.callsTo('chat.postMessage').length ? slack.callsTo('chat.postMessage') : undefined), 'the apology', 10_000);
  expect(String(apology!.args.text)).toContain('try again in a little while');
  const letters = await until(async () => ((await server.bot.queue.deadLetters()).length ? server.bot.queue.deadLetters() : undefined), 'the dead letter', 10_000);
  expect(letters.map((letter) => letter.reason)).toEqual(['ai_client']);
});

it('a conversation grown past the model’s context is answered with less of its history, not refused', async () => {
  const { slack, ai, server } = await start();
  const replies = () => slack.callsTo('chat.postMessage');
  for (const [i, text] of ['first question', 'second question'].entries()) {
    await postSlack(server.url, directMessage({ text }));
    await until(() => replies().length > i || undefined, `reply ${i + 1}`, 10_000);
  }
  // The model now reads the system prompt, two earlier turns and the question, no more.
  ai.script((call) => (call.body.messages.length > 4 ? tooLong : { text: `echo: ${lastUserText(call)}` }));
  const before = ai.calls.length;
  await postSlack(server.url, directMessage({ text: 'third question' }));
  await until(() => replies().length > 2 || undefined, 'the third reply', 10_000);
  expect(String(replies()[2]!.args.text)).toBe('echo: third question');
  // Asked with the four earlier turns (refused), then with the newest two.
  expect(ai.calls.slice(before).map((call) => call.body.messages.length)).toEqual([6, 4]);
  expect(await server.bot.queue.deadLetters()).toEqual([]);
});

it('streamed (SLACK_STREAMING=on): asked again with less history, the answer streamed once, nothing dead-lettered', async () => {
  const { slack, ai, server } = await start({ env: { SLACK_STREAMING: 'on' } });
  const threadTs = nextSlackTs();
  const stops = () => slack.callsTo('chat.stopStream');
  for (const [i, text] of ['first question', 'second question'].entries()) {
    await postSlack(server.url, appMention({ text, threadTs }));
    await until(() => stops().length > i || undefined, `reply ${i + 1}`, 10_000);
  }
  ai.script((call) => (call.body.messages.length > 4 ? tooLong : { text: `echo: ${lastUserText(call)}` }));
  const before = ai.calls.length;
  await postSlack(server.url, appMention({ text: 'third question', threadTs }));
  await until(() => stops().length > 2 || undefined, 'the third reply', 10_000);
  expect(ai.calls.slice(before).map((call) => call.body.messages.length)).toEqual([6, 4]);
  expect(slack.callsTo('chat.startStream')).toHaveLength(3);
  expect(slack.callsTo('chat.postMessage')).toEqual([]);
  expect(await server.bot.queue.deadLetters()).toEqual([]);
});

/**
 * The history sent begins at a user's turn. Cut by HISTORY_TOKEN_BUDGET (or HISTORY_TURNS) it
 * could begin with an answer whose question was left out, which the chat templates of many open
 * models (Mistral, Gemma, Llama 2 on vLLM, llama.cpp, TGI) refuse with a 400: from then on every
 * message of the conversation was apologised for. Real server; Slack and the AI faked over HTTP.
 */
import { expect, it } from 'vitest';
import { slackWorldPerTest } from '../helpers/slack-bot.js';
import { lastUserText, type ChatCall } from '../fakes/openai-server.js';
import { directMessage, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

const start = slackWorldPerTest();

/** As a strict chat template checks: after the system prompt, user and assistant by turns, a user's first. */
const alternates = (call: ChatCall) => call.body.messages.filter((m) => m.role !== 'system').every((m, i) => m.role === (i % 2 === 0 ? 'user' : 'assistant'));
const refusal = { status: 400, body: { object: 'error', message: 'Conversation roles must alternate user/assistant/user/assistant/...', type: 'BadRequestError', param: null, code: 400 } };

it('a conversation whose history outgrew HISTORY_TOKEN_BUDGET is answered by a model that wants roles to alternate', async () => {
  const { slack, ai, server } = await start({
    ai: (call) => (alternates(call) ? { text: `answer to ${lastUserText(call).slice(0, 2)}` } : refusal),
    env: { HISTORY_TOKEN_BUDGET: '60' },
  });
  const replies = () => slack.callsTo('chat.postMessage').map((call) => String(call.args.text));
  // The first question is over the budget; its answer, and the next exchange, are not.
  for (const [i, text] of [`q0 ${'x'.repeat(400)}`, 'q1', 'q2'].entries()) {
    await postSlack(server.url, directMessage({ text }));
    await until(() => replies().length > i || undefined, `reply ${i + 1}`, 10_000);
  }
  expect(replies()).toEqual(['answer to q0', 'answer to q1', 'answer to q2']);
  // Asked with q1 and its answer; the answer to q0, whose question did not fit, left out.
  expect(ai.calls.at(-1)!.body.messages.map((m) => `${m.role}: ${String(m.content)}`).slice(1)).toEqual(['user: q1', 'assistant: answer to q1', 'user: q2']);
  expect(await server.bot.queue.deadLetters()).toEqual([]);
});

/**
 * A server that refuses `stream_options` (Azure OpenAI's older api-versions, one-api/new-api
 * gateways): streamed answers are asked for without it, not refused every time as a client error.
 * Real server; Slack and the AI faked over HTTP.
 */
import { expect, it } from 'vitest';
import { lastUserText, type ChatCall } from '../fakes/openai-server.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { slackWorldPerTest } from '../helpers/slack-bot.js';
import { until } from '../helpers/until.js';

const start = slackWorldPerTest();
const asksUsage = (call: ChatCall) => 'stream_options' in call.body;
const azureRefusal = {
  status: 400,
  body: { error: { message: 'Unrecognized request argument supplied: stream_options', type: 'invalid_request_error', param: null, code: null } },
};

it('Slack streaming: each answer streamed once, stream_options asked for only the first time, no apology, no dead letter', async () => {
  const world = await start({ ai: (call) => (asksUsage(call) ? azureRefusal : { text: `echo: ${lastUserText(call)}`, finishReason: 'stop', usage: null }), env: { SLACK_STREAMING: 'on' } });
  const streamed = () =>
    [...world.slack.callsTo('chat.startStream'), ...world.slack.callsTo('chat.appendStream'), ...world.slack.callsTo('chat.stopStream')]
      .map((call) => String(call.args.markdown_text ?? '') + ((call.args.chunks as { text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join(''))
      .join('');
  await postSlack(world.server.url, appMention({ text: 'first' }));
  await until(() => world.slack.callsTo('chat.stopStream')[0], 'the first stream to be finished');
  await postSlack(world.server.url, appMention({ text: 'second' }));
  await until(() => world.slack.callsTo('chat.stopStream')[1], 'the second stream to be finished');
  expect(streamed()).toBe('echo: firstecho: second');
  expect(world.slack.callsTo('chat.postMessage').map((call) => String(call.args.text))).toEqual([]);
  expect(world.ai.calls.map(asksUsage)).toEqual([true, false, false]);
  expect(await world.server.bot.deadLetters.list()).toEqual([]);
  // Tokens still counted (estimated, as for any server that reports no usage).
  const metrics = await (await fetch(new URL('/metrics', world.server.url))).text();
  expect(Number(/parley_ai_tokens_total\{model="[^"]*",direction="output"\} (\S+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
});

/**
 * A 429 from the Slack Web API without a Retry-After the SDK can read (a proxy or gateway in front
 * of it): a wait, not a failure. With JOB_ATTEMPTS=1 a failure would give the message up at once;
 * it is answered once instead. Real server; Slack and the AI faked over HTTP.
 */
import { expect, it } from 'vitest';
import { slackWorldPerTest } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

const start = slackWorldPerTest();

it('waits out a 429 that names no wait, spends no attempt, and posts the answer once', async () => {
  const { slack, ai, server } = await start({
    slack: (fake) => fake.on('chat.postMessage', (_call, n) => (n < 2 ? { status: 429, body: { ok: false, error: 'ratelimited' } } : undefined)),
    env: { JOB_ATTEMPTS: '1' },
  });
  await postSlack(server.url, appMention({ text: 'hello there' }));
  await until(() => slack.callsTo('chat.postMessage')[2], 'the answer after two 429s', 15_000);
  await new Promise((resolve) => setTimeout(resolve, 300)); // room for a duplicate or an apology
  expect(slack.callsTo('chat.postMessage').map((call) => String(call.args.text))).toEqual(['echo: hello there', 'echo: hello there', 'echo: hello there']);
  expect(await server.bot.queue.deadLetters()).toEqual([]);
  expect(ai.calls).toHaveLength(1);
});

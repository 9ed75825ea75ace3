/**
 * Slack slow to answer assistant.threads.setStatus ("is thinking…"): the answer is not held back
 * until that call ends (up to the Web API's 15 s timeout). It waits a moment for it, then goes, and
 * the status is cleared once the late call has landed, so it does not stay up under the answer.
 * Real server; Slack and the AI faked over HTTP.
 */
import { expect, it } from 'vitest';
import { slackWorldPerTest } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

const start = slackWorldPerTest();

it('posts the answer without waiting out a slow status call, then clears the status after it lands', async () => {
  const { slack, server } = await start({ slack: (fake) => fake.on('assistant.threads.setStatus', (_call, n) => (n === 0 ? { delayMs: 4000 } : undefined)) });
  const asked = Date.now();
  await postSlack(server.url, appMention({ text: 'quick question' }));
  const answer = await until(() => slack.callsTo('chat.postMessage')[0], 'the answer', 10_000);
  expect(answer.at - asked).toBeLessThan(3000); // not the 4 s the status call takes
  // The late "thinking…" is followed by a clearing call once it has landed.
  const statuses = await until(() => {
    const calls = slack.callsTo('assistant.threads.setStatus');
    return calls.length >= 2 ? calls.map((call) => call.args.status) : undefined;
  }, 'the status cleared', 10_000);
  expect(statuses).toEqual(['is thinking…', '']);
});

/**
 * A spent budget's notice with SLACK_STREAMING=on: posted as a notice (chat.postMessage, no 👍/👎,
 * counted kind="notice"), never streamed as though the model had answered. Real server; Slack and
 * the AI faked over HTTP.
 */
import { expect, it } from 'vitest';
import { slackWorldPerTest } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

const start = slackWorldPerTest();
const NOTICE = 'The AI budget is spent for today.';

it('the notice is posted as a notice, not streamed as an answer with feedback buttons', async () => {
  // Each answer of gpt-4o-mini costs more than this: the first spends the budget.
  const { slack, ai, server } = await start({ env: { SLACK_STREAMING: 'on', OPENAI_MODEL: 'gpt-4o-mini', AI_BUDGET_USD_PER_DAY: '0.000001', AI_BUDGET_NOTICE: NOTICE } });
  await postSlack(server.url, appMention({ text: 'first question' }));
  await until(() => slack.callsTo('chat.stopStream').length > 0 || undefined, 'the streamed answer');
  await postSlack(server.url, appMention({ text: 'second question' }));
  const [notice] = await until(() => (slack.callsTo('chat.postMessage').length ? slack.callsTo('chat.postMessage') : undefined), 'the notice');
  expect(notice!.args.text).toBe(NOTICE);
  expect(notice!.args.blocks, 'no feedback buttons on a notice').toBeUndefined();
  expect(slack.callsTo('chat.startStream')).toHaveLength(1);
  expect(ai.calls).toHaveLength(1);
  const metrics = await (await fetch(`${new URL(server.url).origin}/metrics`)).text();
  expect(metrics).toMatch(/^parley_replies_sent_total\{[^}]*kind="notice"[^}]*\} 1$/m);
  expect(metrics).toMatch(/^parley_replies_sent_total\{[^}]*kind="answer"[^}]*\} 1$/m);
});

/**
 * The ack's deadline (ack-budget.ts) applies only when a message is taken in the queue's one step.
 * With a developer's own queue, a message is claimed first and enqueued after: answered 503 at the
 * deadline while its enqueue still ran, Slack's retry would find the claim and be answered 200 as a
 * duplicate, and the enqueue then failing (its claim given back) would leave the message unanswered.
 */
import { afterAll, expect, it } from 'vitest';
import { MemoryQueue, MemoryStore, type JobData, type NewJob } from '../../src/index.js';
import { lastUserText, startFakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack } from '../fakes/slack-api.js';
import { startSlackBot } from '../helpers/slack-bot.js';
import { appMention, postSlack } from '../helpers/slack-events.js';
import { until } from '../helpers/until.js';

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

it("a developer's queue whose first enqueue fails after 2.5 s: the 503 comes after the claim is given back, and Slack's retry is answered once", async () => {
  const slack = await startFakeSlack();
  const ai = await startFakeOpenAi((call) => ({ text: `echo: ${lastUserText(call)}` }));
  closers.push(() => slack.close(), () => ai.close());
  const queue = new MemoryQueue<JobData>({ attempts: 3, backoffMs: 20, maxBackoffMs: 100 });
  const add = queue.add.bind(queue);
  let slow = true;
  queue.add = async (job: NewJob<JobData>) => {
    if (slow && job.id.startsWith('slack')) {
      slow = false;
      await new Promise((resolve) => setTimeout(resolve, 2500));
      throw new Error('queue backend timed out');
    }
    return add(job);
  };
  const server = await startSlackBot(slack, ai, {}, undefined, { bot: { store: new MemoryStore(), queue } });
  closers.unshift(() => server.close());
  const event = appMention({ text: 'hello there', user: 'U0ANN' });
  expect((await postSlack(server.url, event)).status).toBe(503);
  expect((await postSlack(server.url, event, { retryNum: 1 })).status).toBe(200);
  await until(() => (slack.callsTo('chat.postMessage').some((call) => String(call.args.text).includes('hello there')) ? true : undefined), 'the answer to be posted');
  expect(slack.callsTo('chat.postMessage').filter((call) => String(call.args.text).includes('hello there'))).toHaveLength(1);
}, 30_000);

/**
 * The ack path on Redis (issue 15): dedupe, limits and the enqueue (into the intake stream, which
 * the workers move into BullMQ) cost one network round trip, counted on the wire by a TCP relay
 * between parley and the real Redis; the scripts go as EVALSHA, not EVAL; refused and duplicate
 * deliveries are never answered. A Slack thread follow-up's "was this thread answered" check is part
 * of that one round trip.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ingest, noticeOfRefused, type IngestDeps } from '../../src/ingest.js';
import { messageJobId } from '../../src/jobs.js';
import type { JobData } from '../../src/jobs.js';
import { createMemoryLimiter, unlimited } from '../../src/limit/index.js';
import { createMetrics } from '../../src/observe/index.js';
import { BullQueue } from '../../src/queue/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { startFakeOpenAi, type FakeOpenAi } from '../fakes/openai-server.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack-api.js';
import { startRedisRelay, type RedisRelay } from '../helpers/redis-relay.js';
import { startSlackBot, type SlackBot } from '../helpers/slack-bot.js';
import { CHANNEL_ID, TEAM_ID, appMention, channelMessage, nextSlackTs, postSlack } from '../helpers/slack-events.js';
import { conversation, inbound, silentLogger } from '../unit/helpers.js';
import { sleep, uniquePrefix, useRedis, waitFor } from './redis-helpers.js';

const prefix = uniquePrefix();
const redis = useRedis(prefix);

let relay: RedisRelay;
const queues: BullQueue<JobData>[] = [];
let counter = 0;

beforeAll(async () => {
  relay = await startRedisRelay();
});
afterEach(async () => {
  for (const queue of queues.splice(0)) await queue.close(500);
});
afterAll(() => relay.close());

function depsFor(options: { userPerMinute?: number; direct?: boolean } = {}): IngestDeps & { queue: BullQueue<JobData> } {
  const queue = new BullQueue<JobData>({
    url: options.direct ? 'redis://127.0.0.1:6379' : relay.url,
    prefix: `${prefix}-${++counter}`,
    retry: { attempts: 2, backoffMs: 20, maxBackoffMs: 100 },
    lockDurationMs: 2000,
    turnPollMs: 50,
    noticeOf: noticeOfRefused,
  });
  queues.push(queue);
  const limit = (points: number) => createMemoryLimiter({ points, durationSeconds: 60, keyPrefix: 'unused-in-redis-mode' });
  return {
    store: new MemoryStore(),
    queue,
    userLimiter: options.userPerMinute ? limit(options.userPerMinute) : unlimited,
    conversationLimiter: limit(1000),
    tenantLimiter: limit(1000),
    metrics: createMetrics(),
    logger: silentLogger,
  };
}

/** The chunks written while `run` runs. */
async function written(run: () => Promise<unknown>): Promise<string[]> {
  await sleep(20); // let background traffic (BullMQ's own) settle
  const before = relay.writes.length;
  await run();
  return relay.writes.slice(before).map((chunk) => chunk.toString('latin1'));
}

describe('the ack path on Redis', () => {
  it('takes one round trip per ack, for a new delivery and for a redelivery, with scripts sent as EVALSHA', async () => {
    const deps = depsFor({ userPerMinute: 100 });
    await ingest(deps, inbound({ tenant: 'T1' })); // warm: connection, BullMQ's and parley's scripts loaded
    const message = inbound({ tenant: 'T1', conversation: conversation('c-rt') });
    const first = await written(async () => expect(await ingest(deps, message)).toBe('queued'));
    expect(first).toHaveLength(1);
    // One script in that one write: the door (claim, limits, ticket), which leaves the job in the
    // intake stream; a worker's pump moves it into BullMQ later, off the ack path.
    expect(first[0]?.match(/evalsha/gi)).toHaveLength(1);
    expect(first[0]).toMatch(/:intake\r\n/);
    expect(first[0]).not.toMatch(/\r\neval\r\n/i);
    const again = await written(async () => expect(await ingest(deps, message)).toBe('duplicate'));
    expect(again).toHaveLength(1);
    expect((await deps.queue.counts()).waiting).toBe(2);
  });

  it('refuses over the limit in that same round trip, and queues one notice per window in it', async () => {
    const deps = depsFor({ userPerMinute: 2 });
    const user = { id: 'u-limited' };
    expect(await ingest(deps, inbound({ user }))).toBe('queued');
    expect(await ingest(deps, inbound({ user }))).toBe('queued');
    // The notice goes to the intake in the door's own step: nothing hangs on the ack hearing the verdict.
    const refused = await written(async () => expect(await ingest(deps, inbound({ user }))).toBe('rate_limited'));
    expect(refused).toHaveLength(1);
    expect(refused[0]?.match(/evalsha/gi)).toHaveLength(1);
    expect((await deps.queue.counts()).waiting).toBe(3);
    // The refused message's own payload, which the pumps make the notice of.
    const [newest] = await redis.admin().xrevrange(`${prefix}-${counter}:intake`, '+', '-', 'COUNT', 1);
    const fields = Object.fromEntries(newest![1].flatMap((value, i, all) => (i % 2 === 0 ? [[value, all[i + 1]!]] : [])));
    expect(fields.limit).toBe('user');
    const notice = noticeOfRefused((JSON.parse(fields.notice!) as { data: JobData }).data, fields.limit!, Number(fields.seconds));
    expect(notice?.type === 'notice' && notice.reply.text).toMatch(/^You're sending messages faster than I can answer\. Please wait about (59|60) s and try again\.$/);
    expect(await written(async () => expect(await ingest(deps, inbound({ user }))).toBe('rate_limited'))).toHaveLength(1);
    expect((await deps.queue.counts()).waiting).toBe(3);
    const { values } = await deps.metrics.rateLimited.get();
    expect(values.find((v) => v.labels.limit === 'user')?.value).toBe(2);
    // Another user is not affected.
    expect(await ingest(deps, inbound({ user: { id: 'u-other' } }))).toBe('queued');
  });
});

describe('deliveries refused at the door are never answered', () => {
  it('runs only the admitted messages and the one notice, in arrival order', async () => {
    const deps = depsFor({ direct: true, userPerMinute: 2 });
    const user = { id: 'u-flood' };
    const conv = conversation('c-flood');
    const sent = [1, 2, 3, 4].map((n) => inbound({ user, conversation: conv, text: `m${n}` }));
    for (const message of sent) await ingest(deps, message);
    const ran: string[] = [];
    deps.queue.process(async (job) => void ran.push(job.data.type === 'message' ? job.data.message.text : 'notice'), { concurrency: 4 });
    await waitFor(() => ran.length >= 3, 5000, 'the admitted jobs to run');
    await sleep(300);
    expect(ran).toEqual(['m1', 'm2', 'notice']);
  });

  it('does not answer a redelivery of a message whose job was already answered and removed', async () => {
    const deps = depsFor({ direct: true });
    const message = inbound({ conversation: conversation('c-redelivered') });
    const ran: string[] = [];
    deps.queue.process(async (job) => void ran.push(job.id), { concurrency: 2 });
    await ingest(deps, message);
    await waitFor(() => ran.length === 1, 5000, 'the first delivery to be answered');
    await waitFor(async () => (await deps.queue.counts()).active === 0, 2000, 'the job to complete');
    // The completed job is gone from BullMQ (as removeOnComplete does after its count or age).
    const { Queue } = await import('bullmq');
    const raw = new Queue('messages', { connection: { host: '127.0.0.1', port: 6379 }, prefix: (deps.queue as unknown as { prefix: string }).prefix });
    await raw.clean(0, 0, 'completed');
    await raw.close();
    expect(await ingest(deps, message)).toBe('duplicate');
    await sleep(300);
    expect(ran).toEqual([ran[0]]);
  });
});

describe('a Slack thread follow-up on Redis', () => {
  // The real bot and Slack adapter on the relay; no worker, so what the acks queue stays in the intake.
  const botPrefix = `${prefix}-slack`;
  let slack: FakeSlack;
  let ai: FakeOpenAi;
  let server: SlackBot;
  beforeAll(async () => {
    slack = await startFakeSlack();
    ai = await startFakeOpenAi();
    server = await startSlackBot(slack, ai, { REDIS_URL: relay.url, REDIS_PREFIX: botPrefix }, undefined, { bot: { worker: false } });
    await postSlack(server.url, appMention({ text: 'warm up' })); // the door's connection and script
  });
  afterAll(async () => {
    await server.close();
    await slack.close();
    await ai.close();
  });

  const queued = () => redis.admin().xlen(`${botPrefix}:intake`);
  const claims = (eventId: string) => redis.admin().keys(`${botPrefix}:turn-claim:seen:${messageJobId({ platform: 'slack', id: eventId })}`);

  it('checks that the bot answered in the thread in the ack\'s one round trip, and queues the follow-up', async () => {
    const thread = nextSlackTs();
    await redis.admin().set(`${botPrefix}:parley:slack:thread:${TEAM_ID}:${CHANNEL_ID}:${thread}`, '1'); // as the sender marks it
    const before = await queued();
    const followUp = channelMessage({ text: 'and a follow-up', threadTs: thread });
    const writes = await written(async () => expect((await postSlack(server.url, followUp)).status).toBe(200));
    expect(writes).toHaveLength(1);
    expect(writes[0]?.match(/evalsha/gi)).toHaveLength(1);
    expect(writes[0]).not.toMatch(/\r\nget\r\n/i);
    expect(await queued()).toBe(before + 1);
    expect(await claims(followUp.event_id)).toHaveLength(1);
  });

  it("marks a mention's thread in the ack's one round trip, so a follow-up sent before any reply is queued", async () => {
    const mention = appMention({ text: 'a first question' });
    const threadKey = `${botPrefix}:parley:slack:thread:${TEAM_ID}:${CHANNEL_ID}:${mention.event.ts}`;
    const writes = await written(async () => expect((await postSlack(server.url, mention)).status).toBe(200));
    expect(writes).toHaveLength(1);
    expect(writes[0]?.match(/evalsha/gi)).toHaveLength(1);
    expect(await redis.admin().exists(threadKey)).toBe(1);
    expect(await redis.admin().pttl(threadKey)).toBeGreaterThan(6 * 24 * 3600 * 1000); // a week, as the sender's own mark
    // No worker runs here: nothing has answered the mention, and the follow-up is taken all the same.
    const before = await queued();
    const followUp = channelMessage({ text: 'and a second line', threadTs: mention.event.ts });
    expect((await postSlack(server.url, followUp)).status).toBe(200);
    expect(await queued()).toBe(before + 1);
    expect(await claims(followUp.event_id)).toHaveLength(1);
  });

  it('ignores a message in a thread the bot never answered in, in that same one round trip: nothing claimed or queued', async () => {
    const before = await queued();
    const chatter = channelMessage({ text: 'unrelated chatter', threadTs: nextSlackTs() });
    const writes = await written(async () => expect((await postSlack(server.url, chatter)).status).toBe(200));
    expect(writes).toHaveLength(1);
    expect(writes[0]?.match(/evalsha/gi)).toHaveLength(1);
    expect(writes[0]).not.toMatch(/\r\nget\r\n/i);
    expect(await queued()).toBe(before);
    expect(await claims(chatter.event_id)).toEqual([]);
    // Not a message received, nor a duplicate.
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    expect(metrics).toMatch(/parley_messages_received_total\{platform="slack"\} 4\n/); // the warm-up, the mention and the two follow-ups
    expect(metrics).toMatch(/parley_duplicates_dropped_total\{platform="slack"\} 0\n/);
  });
});

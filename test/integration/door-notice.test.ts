/**
 * A rate-limit refusal's notice, queued by the door's one script (turnstile.ts): with several limits,
 * in the conversation's line after earlier messages, with a required key and a mark, built from the
 * job's own conversation; and a developer's queue with its own admit, whose notice parley queues.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ingest, noticeOfRefused, type IngestDeps } from '../../src/ingest.js';
import type { JobData } from '../../src/jobs.js';
import { createMemoryLimiter } from '../../src/limit/index.js';
import { createMetrics } from '../../src/observe/index.js';
import { BullQueue, MemoryQueue, type Admission, type Admitted, type NewJob } from '../../src/queue/index.js';
import { MemoryStore } from '../../src/store/index.js';
import { conversation, inbound, silentLogger } from '../unit/helpers.js';
import { sleep, uniquePrefix, useRedis, waitFor } from '../integration/redis-helpers.js';

const prefix = uniquePrefix();
const redis = useRedis(prefix);
const queues: BullQueue<JobData>[] = [];
let counter = 0;
afterEach(async () => {
  for (const q of queues.splice(0)) await q.close(500);
});
const limit = (points: number) => createMemoryLimiter({ points, durationSeconds: 60, keyPrefix: 'x' });

function deps(user: number, conv: number, tenant: number): IngestDeps & { queue: BullQueue<JobData> } {
  const queue = new BullQueue<JobData>({ url: 'redis://127.0.0.1:6379', prefix: `${prefix}-${++counter}`, retry: { attempts: 2, backoffMs: 20, maxBackoffMs: 100 }, lockDurationMs: 2000, turnPollMs: 50, noticeOf: noticeOfRefused });
  queues.push(queue);
  return { store: new MemoryStore(), queue, userLimiter: limit(user), conversationLimiter: limit(conv), tenantLimiter: limit(tenant), metrics: createMetrics(), logger: silentLogger };
}

/** The intake's jobs, a refusal's notice made as the pumps make it (from the refused job's own entry). */
async function intake(_d: { queue: unknown }) {
  const entries = await redis.admin().xrange(`${prefix}-${counter}:intake`, '-', '+');
  return entries.map(([, list]) => {
    const fields = Object.fromEntries(list.flatMap((value, i) => (i % 2 === 0 ? [[value, list[i + 1]!]] : [])));
    if (fields.job) return JSON.parse(fields.job) as { id: string; group: string; data: { type: string; reply?: { text: string } } };
    const refused = JSON.parse(fields.notice!) as { group: string; data: JobData };
    return { id: fields.id!, group: refused.group, data: noticeOfRefused(refused.data, fields.limit!, Number(fields.seconds)) as { type: string; reply?: { text: string } } };
  });
}

describe('door notice, several limits', () => {
  it('conversation limit (2nd of 3) refuses: its notice, once per window', async () => {
    const d = deps(100, 1, 100);
    const c = conversation('c-conv');
    expect(await ingest(d, inbound({ conversation: c, tenant: 'T1' }))).toBe('queued');
    expect(await ingest(d, inbound({ conversation: c, tenant: 'T1' }))).toBe('rate_limited');
    expect(await ingest(d, inbound({ conversation: c, tenant: 'T1' }))).toBe('rate_limited');
    const e = await intake(d);
    expect(e.filter((x) => x.data.type === 'notice')).toHaveLength(1);
    expect(e.find((x) => x.data.type === 'notice')!.data.reply!.text).toMatch(/^I'm getting more messages .* about (59|60) s/);
  });

  it('tenant limit (3rd of 3) refuses: its notice', async () => {
    const d = deps(100, 100, 1);
    expect(await ingest(d, inbound({ conversation: conversation('t-a'), tenant: 'T2' }))).toBe('queued');
    expect(await ingest(d, inbound({ conversation: conversation('t-b'), tenant: 'T2' }))).toBe('rate_limited');
    const e = await intake(d);
    const n = e.find((x) => x.data.type === 'notice')! as { group: string; data: { conversation?: unknown } };
    expect(n.group).toBe('test.t-b');
    expect(n.data.conversation).toEqual(conversation('t-b'));
  });

  it('the notice runs in the line, after earlier messages, once', async () => {
    const d = deps(2, 100, 100);
    const c = conversation('c-order');
    const u = { id: 'u-order' };
    for (const n of [1, 2, 3, 4, 5]) await ingest(d, inbound({ conversation: c, user: u, text: `m${n}` }));
    const ran: string[] = [];
    d.queue.process(async (job) => void ran.push(job.data.type === 'message' ? job.data.message.text : `notice:${job.id}`), { concurrency: 4 });
    await waitFor(() => ran.length >= 3, 5000, 'run');
    await sleep(500);
    expect(ran).toHaveLength(3);
  });
});

describe('developer queue with its own admit', () => {
  it('still gets its notice (parley queues it)', async () => {
    const inner = new MemoryQueue<JobData>({ retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 1 } } as never);
    const added: NewJob<JobData>[] = [];
    let n = 0;
    const queue = Object.assign(Object.create(inner), {
      add: async (job: NewJob<JobData>) => (added.push(job), true),
      admit: async (_job: NewJob<JobData>, a: Admission): Promise<Admitted> => (++n > 1 ? { outcome: 'limited', limit: a.limits[0]!, retryAfterMs: 30_000 } : { outcome: 'queued' }),
    });
    const d: IngestDeps = { store: new MemoryStore(), queue, userLimiter: limit(1), metrics: createMetrics(), logger: silentLogger };
    await ingest(d, inbound({ user: { id: 'dev' } }));
    expect(await ingest(d, inbound({ user: { id: 'dev' } }))).toBe('rate_limited');
    expect(added).toHaveLength(1);
    expect((added[0]!.data as { reply: { text: string } }).reply.text).toContain('about 30 s');
  });
});

describe('requires + marks + notice in one script', () => {
  it('over the limit with a required key present and a mark: notice queued, no mark set', async () => {
    const d = { ...deps(1, 100, 100), keyOnQueueServer: (k: string) => `${prefix}-store:${k}` };
    await redis.admin().set(`${prefix}-store:req`, '1');
    const c = conversation('c-rm');
    const u = { id: 'u-rm' };
    expect(await ingest(d, inbound({ conversation: c, user: u, onlyIfStored: 'req', marks: { key: 'mark1', ttlMs: 60_000 } }))).toBe('queued');
    expect(await ingest(d, inbound({ conversation: c, user: u, onlyIfStored: 'req', marks: { key: 'mark2', ttlMs: 60_000 } }))).toBe('rate_limited');
    expect(await ingest(d, inbound({ conversation: c, user: u, onlyIfStored: 'missing', marks: { key: 'mark3', ttlMs: 60_000 } }))).toBe('ignored');
    const e = await intake(d);
    expect(e.map((x) => x.data.type)).toEqual(['message', 'notice']);
    expect(await redis.admin().exists(`${prefix}-store:mark1`)).toBe(1);
    expect(await redis.admin().exists(`${prefix}-store:mark2`)).toBe(0);
  });
});

describe("the notice's conversation, as the message's", () => {
  const details: Record<string, object> = {
    slack: { team: 'T1', channel: 'C1', threadTs: '1712345678.123456', user: 'U1', enterprise: 'E1', enterpriseInstall: true },
    whatsapp: { from: 'whatsapp:+15551234567', to: 'whatsapp:+15557654321' },
    intercom: { conversationId: '123456789012345678' },
    // an adapter of your own: what Redis's cjson would have changed (empty arrays, long numbers) or refused
    custom: { empty: {}, list: [], nums: [1, 2.5, 1e21], big: 1234567890123456, ts: 1712345678.123456, f: 0.1 + 0.2, uni: 'héllo 😀 \u2028 ☃', slash: 'a/b</script>', nul: null, nested: { a: [null, 1] } },
  };
  for (const [platform, detail] of Object.entries(details)) {
    it(`${platform}: its details exactly`, async () => {
      const d = deps(1, 100, 100);
      const c = { platform, id: `conv-${platform}`, details: detail };
      const u = { id: `u-${platform}` };
      expect(await ingest(d, inbound({ platform, conversation: c, user: u }))).toBe('queued');
      expect(await ingest(d, inbound({ platform, conversation: c, user: u }))).toBe('rate_limited');
      const notice = (await intake(d)).find((entry) => entry.data.type === 'notice') as unknown as { data: { conversation: unknown; reply: { text: string } } };
      expect(notice.data.conversation).toEqual(c);
      expect(notice.data.reply.text).toMatch(/about (59|60) s/);
    });
  }

  it('a message whose text holds a lone surrogate (half an emoji) is refused as any other, with its notice', async () => {
    const d = deps(1, 100, 100);
    const c = { platform: 'slack', id: 'conv-surrogate', details: { channel: 'C' } };
    const u = { id: 'u-surrogate' };
    expect(await ingest(d, inbound({ platform: 'slack', conversation: c, user: u }))).toBe('queued');
    expect(await ingest(d, inbound({ platform: 'slack', conversation: c, user: u, text: 'cut emoji \ud83d' }))).toBe('rate_limited');
    expect((await intake(d)).map((entry) => entry.data.type)).toEqual(['message', 'notice']);
  });
});

describe('a pump that cannot make notices (a BullQueue without noticeOf)', () => {
  const retry = { attempts: 2, backoffMs: 20, maxBackoffMs: 100 };
  const withNotices = (queuePrefix: string) => new BullQueue<JobData>({ url: 'redis://127.0.0.1:6379', prefix: queuePrefix, retry, lockDurationMs: 2000, turnPollMs: 50, noticeOf: noticeOfRefused });
  const withoutNotices = (queuePrefix: string) => new BullQueue<JobData>({ url: 'redis://127.0.0.1:6379', prefix: queuePrefix, retry, lockDurationMs: 2000, turnPollMs: 50 });

  /** m1 queued, m2 refused (its notice queued at the door), m3 after the window: what the worker ran. */
  async function run(door: BullQueue<JobData>, worker: BullQueue<JobData>): Promise<string[]> {
    queues.push(door, worker);
    const d: IngestDeps = { store: new MemoryStore(), queue: door, userLimiter: createMemoryLimiter({ points: 1, durationSeconds: 1, keyPrefix: 'x' }), metrics: createMetrics(), logger: silentLogger };
    const c = conversation(`c-pump-${++counter}`);
    const u = { id: `u-pump-${counter}` };
    const ran: string[] = [];
    worker.process(async (job) => void ran.push(job.data.type === 'message' ? job.data.message.text : 'notice'), { concurrency: 2 });
    expect(await ingest(d, inbound({ conversation: c, user: u, text: 'm1' }))).toBe('queued');
    expect(await ingest(d, inbound({ conversation: c, user: u, text: 'm2' }))).toBe('rate_limited');
    await sleep(1100); // the user's window has ended
    expect(await ingest(d, inbound({ conversation: c, user: u, text: 'm3' }))).toBe('queued');
    await waitFor(() => ran.includes('m3'), 8000, 'm3 to run');
    return ran;
  }

  it('a worker with noticeOf runs m1, the notice, then m3', async () => {
    const queuePrefix = `${prefix}-pump-${++counter}`;
    expect(await run(withNotices(queuePrefix), withNotices(queuePrefix))).toEqual(['m1', 'notice', 'm3']);
  }, 15_000);

  it('a worker without noticeOf drops the notice but not its conversation: m3 runs (the notice no longer holds the line)', async () => {
    const queuePrefix = `${prefix}-pump-${++counter}`;
    expect(await run(withNotices(queuePrefix), withoutNotices(queuePrefix))).toEqual(['m1', 'm3']);
  }, 15_000);

  it('without noticeOf at the door, the refusal is noticed by its caller, as before', async () => {
    const queue = withoutNotices(`${prefix}-pump-${++counter}`);
    queues.push(queue);
    const d: IngestDeps = { store: new MemoryStore(), queue, userLimiter: limit(1), metrics: createMetrics(), logger: silentLogger };
    const ran: string[] = [];
    queue.process(async (job) => void ran.push(job.data.type), { concurrency: 2 });
    const c = conversation('c-caller');
    const u = { id: 'u-caller' };
    expect(await ingest(d, inbound({ conversation: c, user: u }))).toBe('queued');
    expect(await ingest(d, inbound({ conversation: c, user: u }))).toBe('rate_limited');
    await waitFor(() => ran.includes('notice'), 5000, 'the notice to run');
    expect(ran).toEqual(['message', 'notice']);
  }, 10_000);
});

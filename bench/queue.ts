/**
 * The queue part: what parley's Redis queue alone costs a worker per message, at the paced
 * end-to-end phase's rate (64/s, half the ceiling). Two worker processes × 32 (bench/queue-worker.ts:
 * the queue a `parley worker` gets — intake pump, BullMQ, turnstile — with a handler that only
 * waits 500 ms) take jobs this process admits as an ingress would (one script each: claim, ticket,
 * intake append), each its own conversation. Their CPU per job is the part of the end-to-end
 * workers' CPU per message that no change to answering can remove. Prints delivered / lost /
 * duplicated: every admitted job handled once.
 */
import type { ChildProcess } from 'node:child_process';
import { createBackends } from '../src/backends.js';
import { loadConfig } from '../src/config.js';
import { conversationGroup, messageJobId, type JobData } from '../src/jobs.js';
import type { InboundMessage } from '../src/message.js';
import { createLogger } from '../src/observe/index.js';
import type { NewJob } from '../src/queue/index.js';
import { parleyEnv, startChild, type Child } from './children.js';
import { cpuTimeMs, perItemUs } from './cpu.js';
import { AI_LATENCY_MS, PACED_WARMUP_EVENTS, SETTLE_MS, WARMUP_EVENTS } from './e2e-phases.js';
import { openLoop } from './e2e-send.js';
import type { BenchRedis } from './redis.js';
import { WORKERS, WORKER_CONCURRENCY as CONCURRENCY } from './slack-e2e.js';

// The end-to-end part's workers, at its paced rate (half the ceiling).
const RATE = (WORKERS * CONCURRENCY * 1000) / AI_LATENCY_MS / 2;
const EVENTS = Number(process.env.BENCH_QUEUE_EVENTS ?? 1280);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A job as a Slack mention in a thread of its own makes it: its id, its conversation's group, about its size. */
function mention(n: number): NewJob<JobData> {
  const thread = `1700000000.${String(n).padStart(6, '0')}`;
  const message: InboundMessage = {
    id: `EvQUEUE${n}`,
    platform: 'slack',
    conversation: { platform: 'slack', id: `T0PARLEY:CBENCH:${thread}`, details: { team: 'T0PARLEY', channel: 'CBENCH', threadTs: thread, user: 'U0BENCH' } },
    user: { id: 'U0BENCH' },
    text: `question number ${n}: how long does the queue take with a question of about this length?`,
    receivedAt: new Date().toISOString(),
    tenant: 'T0PARLEY',
  };
  return { id: messageJobId(message), group: conversationGroup(message.conversation), data: { type: 'message', message } };
}

/** The ids one worker process has handled since it was last asked. */
function handledSince(child: ChildProcess): Promise<string[]> {
  return new Promise((resolve) => {
    child.once('message', (ids) => resolve(ids as string[]));
    child.send('report');
  });
}

/** Run the queue part and print its lines. Returns whether every admitted job was handled exactly once. */
export async function benchQueue(redis: BenchRedis): Promise<boolean> {
  const env = parleyEnv({ REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix('queue'), BENCH_QUEUE_WAIT_MS: String(AI_LATENCY_MS), BENCH_QUEUE_CONCURRENCY: String(CONCURRENCY) });
  const backends = createBackends(loadConfig(env), createLogger('warn'));
  const queue = backends.queue();
  const workers: Child[] = await Promise.all(Array.from({ length: WORKERS }, () => startChild(['bench/queue-worker.ts'], env, { ready: /queue worker ready/, ipc: true })));
  let next = 0;
  let refused = 0;
  const admit = async (count: number, perSecond: number): Promise<string[]> => {
    const jobs = Array.from({ length: count }, () => mention(next++));
    await openLoop(count, perSecond, async (k) => {
      const job = jobs[k]!;
      const admitted = await queue.admit!(job, { claim: `claim:${job.id}`, claimTtlMs: 60_000, limits: [] });
      if (admitted.outcome !== 'queued') refused++;
    });
    return jobs.map((job) => job.id);
  };
  /** How often each id has been handled, by either worker. */
  const seen = new Map<string, number>();
  const collect = async () => {
    for (const ids of await Promise.all(workers.map((w) => handledSince(w.child)))) for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
  };
  const allHandled = async (ids: string[]) => {
    for (const giveUpAt = Date.now() + 60_000; Date.now() < giveUpAt; await sleep(200)) {
      if (ids.every((id) => seen.has(id))) return;
      await collect();
    }
  };
  try {
    await allHandled(await admit(WARMUP_EVENTS, 400));
    await allHandled(await admit(PACED_WARMUP_EVENTS, RATE));
    const pids = workers.map((w) => w.child.pid);
    const before = pids.map(cpuTimeMs);
    const measured = await admit(EVENTS, RATE);
    await allHandled(measured);
    const used = pids.map((pid, k) => (cpuTimeMs(pid) ?? Number.NaN) - (before[k] ?? Number.NaN)).reduce((sum, ms) => sum + ms, 0);
    await sleep(SETTLE_MS); // a late duplicate would show now
    await collect();
    const delivered = measured.filter((id) => seen.has(id)).length;
    const duplicated = measured.filter((id) => (seen.get(id) ?? 0) > 1).length;
    console.log(`queue alone on Redis (${WORKERS} workers × ${CONCURRENCY}; intake pump, BullMQ and turnstile; each job waits ${AI_LATENCY_MS} ms and does nothing else): ${EVENTS} jobs at ${RATE}/s`);
    console.log(`  CPU per job in the workers: ${Math.round(perItemUs(used, EVENTS) ?? Number.NaN)} µs (the admitting side, one script per job, is in the ingress figures)`);
    console.log(`  delivered ${delivered} / lost ${EVENTS - delivered} / duplicated ${duplicated} of ${EVENTS} admitted (${refused} refused at admission, warm-up included)`);
    return delivered === EVENTS && duplicated === 0 && refused === 0;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await queue.close(1000).catch(() => undefined);
    await backends.close();
  }
}

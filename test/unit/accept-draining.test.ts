/**
 * A webhook's messages offered once the shutdown's drain has begun: refused (503, Retry-After,
 * Connection: close) when this process would hold them only in memory (the in-process queue,
 * MODE=direct) and the sender sends them again; taken as ever otherwise (a durable queue keeps
 * them; Twilio would not send them again after a 503, nor Slack after its last retry).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAccept, DrainingError } from '../../src/accept.js';
import type { Adapter } from '../../src/adapter.js';
import { loadConfig } from '../../src/index.js';
import type { JobData } from '../../src/jobs.js';
import { unlimited } from '../../src/limit/index.js';
import { createMetrics } from '../../src/observe/index.js';
import { MemoryQueue } from '../../src/queue/index.js';
import { MemoryStore } from '../../src/store/index.js';
import type { WorkerDeps } from '../../src/worker.js';
import { inbound, silentLogger } from './helpers.js';

const adapter = (redelivers: boolean): Adapter => ({ platform: 'test', path: '/test', contentTypes: ['application/json'], redelivers, receive: async () => ({ response: { status: 200 }, messages: [] }) });

const queues: MemoryQueue<JobData>[] = [];
afterEach(async () => {
  await Promise.all(queues.splice(0).map((queue) => queue.close(0)));
});

/** An accept whose drain has begun (or not), over an in-process queue, or one standing for a durable queue (Redis, SQS). */
function accepting({ draining = true, durable = false, mode = 'queue' }: { draining?: boolean; durable?: boolean; mode?: 'queue' | 'direct' } = {}) {
  const queue = new MemoryQueue<JobData>({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 });
  queues.push(queue);
  if (durable) Object.defineProperty(queue, 'volatile', { value: false });
  const metrics = createMetrics();
  const accept = createAccept({
    config: loadConfig({ MODE: mode }),
    logger: silentLogger,
    workerDeps: { adapterFor: () => undefined, metrics, logger: silentLogger } as unknown as WorkerDeps,
    ingestDeps: { store: new MemoryStore(), queue, userLimiter: unlimited, metrics, logger: silentLogger },
    retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 1 },
    track: (work) => work,
    answeringHere: () => 0,
    draining: () => draining,
  });
  const waiting = async () => (await queue.counts()).waiting;
  return { accept, waiting };
}

describe('accept once the drain has begun', () => {
  it('refuses a message the in-process queue would hold, for a sender that redelivers: 503 with Retry-After and Connection: close, nothing queued', async () => {
    const { accept, waiting } = accepting();
    const refused = await accept(adapter(true), { response: { status: 200 }, messages: [inbound()] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DrainingError);
    expect(refused).toMatchObject({ status: 503, reason: 'shutting_down', headers: { 'retry-after': '1', connection: 'close' } });
    expect(await waiting()).toBe(0);
  });

  it('refuses it in MODE=direct too (answered in this process), whatever the queue', async () => {
    const { accept } = accepting({ mode: 'direct', durable: true });
    await expect(accept(adapter(true), { response: { status: 200 }, messages: [inbound()] })).rejects.toBeInstanceOf(DrainingError);
  });

  it('takes it from a sender that never redelivers (Twilio): a 503 would lose it', async () => {
    const { accept, waiting } = accepting();
    expect((await accept(adapter(false), { response: { status: 200 }, messages: [inbound()] })).status).toBe(200);
    expect(await waiting()).toBe(1);
  });

  it("takes a redelivering sender's last delivery (Slack's third retry): a 503 would lose it for sure", async () => {
    for (const mode of ['queue', 'direct'] as const) {
      const { accept } = accepting({ mode });
      const response = await accept(adapter(true), { response: { status: 200 }, messages: [inbound()], lastDelivery: { id: 'Ev0LAST' } });
      expect(response.status).toBe(200);
    }
  });

  it('takes it into a durable queue, and before the drain has begun', async () => {
    for (const setting of [{ durable: true }, { draining: false }]) {
      const { accept, waiting } = accepting(setting);
      expect((await accept(adapter(true), { response: { status: 200 }, messages: [inbound()] })).status).toBe(200);
      expect(await waiting()).toBe(1);
    }
  });
});

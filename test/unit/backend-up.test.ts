/**
 * parley_backend_up: 1 for a backend that answers the check /readyz makes, 0 for one that fails
 * or does not answer in time; each backend on its own.
 */
import { expect, it } from 'vitest';
import { pino } from 'pino';
import { backendLog, updateBackendUp } from '../../src/backend-up.js';
import { createMetrics } from '../../src/observe/index.js';
import { MemoryQueue } from '../../src/queue/index.js';
import { MemoryStore } from '../../src/store/index.js';

const RETRY = { attempts: 1, backoffMs: 1, maxBackoffMs: 1 };
const memoryQueue = () => new MemoryQueue<unknown>(RETRY);

async function gauge(metrics: ReturnType<typeof createMetrics>): Promise<Record<string, number>> {
  const { values } = await metrics.backendUp.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.backend), v.value]));
}

it('is 1 for each backend that answers, 0 for one that refuses, and back to 1 once it answers again', async () => {
  const metrics = createMetrics();
  const store = new MemoryStore();
  const queue = memoryQueue();
  await updateBackendUp(store, queue, metrics);
  expect(await gauge(metrics)).toEqual({ store: 1, queue: 1 });

  let refuse = true;
  const down = Object.assign(Object.create(store) as MemoryStore, { ping: async () => (refuse ? Promise.reject(new Error('connect ECONNREFUSED')) : undefined) });
  await updateBackendUp(down, queue, metrics);
  expect(await gauge(metrics)).toEqual({ store: 0, queue: 1 });
  refuse = false;
  await updateBackendUp(down, queue, metrics);
  expect(await gauge(metrics)).toEqual({ store: 1, queue: 1 });
});

it('is 0 for a queue whose check never answers (a Redis paused): the check has its deadline', async () => {
  const metrics = createMetrics();
  const queue = memoryQueue();
  const silent = Object.assign(Object.create(queue) as MemoryQueue<unknown>, { ping: () => new Promise<void>(() => undefined) });
  await updateBackendUp(new MemoryStore(), silent, metrics);
  expect(await gauge(metrics)).toEqual({ store: 1, queue: 0 });
});

it('is exported as parley_backend_up{backend}', async () => {
  const metrics = createMetrics();
  await updateBackendUp(new MemoryStore(), memoryQueue(), metrics);
  const text = await metrics.registry.metrics();
  expect(text).toContain('parley_backend_up{backend="store"} 1');
  expect(text).toContain('parley_backend_up{backend="queue"} 1');
});

it('logs an outage once as it begins (naming each backend down, in /readyz words) and once when it is over, not at every check', () => {
  const lines: { level: number; msg: string; down?: Record<string, string>; downSeconds?: number }[] = [];
  const log = backendLog(pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) }));
  const up = { store: 'ok', queue: 'ok' };
  const paused = { store: 'down: no answer within 1500 ms', queue: 'down: no answer within 2000 ms' };
  log(up, 0);
  expect(lines).toEqual([]);
  for (let at = 5000; at <= 60_000; at += 5000) log(paused, at);
  log(up, 65_000);
  log(up, 70_000);
  expect(lines.map(({ level, msg, down, downSeconds }) => ({ level, msg, down, downSeconds }))).toEqual([
    { level: 40, msg: 'not ready: the store and the queue are down; /readyz answers 503 until they answer', down: paused, downSeconds: undefined },
    { level: 30, msg: "ready again: the store and the queue answer /readyz's check", down: undefined, downSeconds: 60 },
  ]);
});

it('logs a change in which backends are down once two checks found it, and counts the outage from its first check', () => {
  const lines: { msg: string; downSeconds?: number }[] = [];
  const log = backendLog(pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) }));
  const queueDown = { store: 'ok', queue: 'down: not connected to Redis (it refused the connection; reconnecting)' };
  const bothDown = { store: 'down: x', queue: 'down: y' };
  log(queueDown, 0);
  log(queueDown, 5000);
  log(bothDown, 10_000);
  log(bothDown, 15_000);
  log({ store: 'ok', queue: 'ok' }, 20_000);
  expect(lines.map(({ msg, downSeconds }) => ({ msg, downSeconds }))).toEqual([
    { msg: 'not ready: the queue is down; /readyz answers 503 until it answers', downSeconds: undefined },
    { msg: 'not ready: the store and the queue are down; /readyz answers 503 until they answer', downSeconds: undefined },
    { msg: "ready again: the store and the queue answer /readyz's check", downSeconds: 20 },
  ]);
});

it('a single failed check between good ones (a blip, a Lambda frozen mid-check) logs nothing', () => {
  const lines: string[] = [];
  const log = backendLog(pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }));
  log({ store: 'ok', queue: 'ok' }, 0);
  log({ store: 'down: no answer within 1500 ms', queue: 'ok' }, 5000);
  log({ store: 'ok', queue: 'ok' }, 10_000);
  expect(lines).toEqual([]);
});

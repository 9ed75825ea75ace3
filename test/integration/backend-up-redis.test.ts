/**
 * parley_backend_up on a redis-server of the test's own, stopped and paused: the outage shows in
 * /metrics (each backend 0) and its end too (1), not only in /readyz's 503. Nothing else exported
 * said Redis was down: the queue depth kept its last reading. A paused Redis breaks no connection,
 * so no log line said so, nor when it was over: one line each way now.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { webChat } from '../../adapters/web/index.js';
import { createBot, type Bot } from '../../src/index.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/processes.js';
import { testEnv } from '../helpers/web-bot.js';
import { until } from '../helpers/until.js';

let redis: PrivateRedis | undefined;
let bot: Bot | undefined;
afterEach(async () => {
  redis?.thaw();
  await bot?.close();
  await redis?.stop();
  redis = bot = undefined;
});

/** parley_backend_up's value per backend, as GET /metrics says it ({} before the first check). */
async function backendUp(on: Bot): Promise<Record<string, number>> {
  const text = await (await on.fetch(new Request('http://127.0.0.1/metrics'))).text();
  return Object.fromEntries([...text.matchAll(/^parley_backend_up\{backend="(\w+)"\} (\S+)$/gm)].map(([, backend, value]) => [backend!, Number(value)]));
}

/** Both backends at `value`, within a generous deadline (checked every 5 s). */
const both = (value: number, what: string) => until(async () => {
  const up = await backendUp(bot!);
  return up.store === value && up.queue === value;
}, what, 30_000);

/** The lines of this file's subject: "not ready…" and "ready again…". */
const readiness = (lines: string[]) => lines.filter((msg) => /^(not ready|ready again)/.test(msg));

it('a Redis stopped, started again, then paused and resumed: each backend 0 while it is down, 1 once it answers', async () => {
  redis = await startPrivateRedis(['--appendonly', 'no']);
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(String(JSON.parse(line).msg)) });
  bot = createBot({ adapters: [webChat()], logger, env: { ...testEnv, REDIS_URL: redis.url, REDIS_PREFIX: `backend-up-${randomUUID()}` } });
  await bot.start();
  await both(1, 'the store and the queue up');

  await redis.stop();
  await both(0, 'the store and the queue down once Redis is stopped');
  await redis.start();
  await both(1, 'the store and the queue up again once Redis is back');

  lines.length = 0;

  // Paused (SIGSTOP): connections stay open and nothing answers, so each check runs out of time.
  // No connection breaks, so nothing but these checks tells the log, once as it begins and once as it ends.
  redis.freeze();
  await both(0, 'the store and the queue down while Redis answers nothing');
  await until(() => readiness(lines).length >= 1, 'the outage logged (at the second check that finds it)', 30_000);
  redis.thaw();
  await both(1, 'the store and the queue up again once Redis answers');
  await until(() => readiness(lines).length >= 2, 'the end of the outage logged');
  expect(readiness(lines)).toEqual(['not ready: the store and the queue are down; /readyz answers 503 until they answer', "ready again: the store and the queue answer /readyz's check"]);
}, 120_000);

/**
 * A Redis error carries the command it answered (ioredis' `err.command.args`): the AUTH password of
 * REDIS_URL, a queued job's message text, the AI's answer for the conversation log. parley's logger,
 * and a logger the app gives createBot, log the error without those arguments (the command's name stays).
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { createBot } from '../../src/index.js';
import { loggerOptions } from '../../src/observe/logger.js';

const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
afterAll(() => redis.quit());

/** A real ReplyError from Redis for a command whose arguments hold a secret. */
async function refusedCommand(secret: string): Promise<Error> {
  return redis.call('SET', 'parley-test:log-redis-errors', `message text ${secret}`, 'NX', 'NOT-AN-OPTION').then(
    () => expect.unreachable('Redis took a malformed SET'),
    (error: Error) => error,
  );
}

function capture(): { lines: string[]; stream: { write(line: string): void } } {
  const lines: string[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(line) } };
}

it('ioredis puts the arguments on the error (what the serializer is for)', async () => {
  const error = await refusedCommand('hunter2');
  expect(JSON.stringify(error)).toContain('hunter2');
});

it("parley's logger logs a Redis error without its command's arguments", async () => {
  const error = await refusedCommand('hunter2');
  const { lines, stream } = capture();
  const captured = pino(loggerOptions('info'), stream);
  captured.warn({ err: error }, 'write failed');
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toContain('hunter2');
  expect(JSON.parse(lines[0] as string).err.command).toEqual({ name: 'SET', args: '[redacted]' });
});

it("an app's own logger given to createBot gets the same serializer", async () => {
  const { lines, stream } = capture();
  const bot = createBot({ logger: pino({}, stream), env: {} });
  bot.logger.warn({ err: await refusedCommand('s3cret-pw') }, 'write failed');
  await bot.close();
  const line = lines.find((l) => l.includes('write failed')) as string;
  expect(line).toBeDefined();
  expect(line).not.toContain('s3cret-pw');
});

it('nested anywhere in the error: an AggregateError of Redis errors, or an app error holding one', async () => {
  const { lines, stream } = capture();
  const captured = pino(loggerOptions('info'), stream);
  captured.warn({ err: new AggregateError([await refusedCommand('aggr-secret')], 'several failed') }, 'write failed');
  captured.warn({ err: Object.assign(new Error('app failure'), { redis: await refusedCommand('prop-secret') }) }, 'write failed');
  expect(lines).toHaveLength(2);
  for (const line of lines) expect(line).not.toMatch(/aggr-secret|prop-secret/);
});

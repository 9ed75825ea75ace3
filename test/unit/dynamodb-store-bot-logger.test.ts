/**
 * A DynamoStore built before the bot (`createBot({ config, ...dynamoDbFromConfig(config) })`) says what
 * it does in the background through the bot's logger — in LOG_FORMAT, with the bot's fields — not as
 * a bare line on stderr. DynamoDB is a port that refuses connections: every claim and take-back fails.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, expect, it, vi } from 'vitest';
import { DynamoStore } from '../../aws/index.js';
import { createBot } from '../../src/index.js';
import { freePort } from '../helpers/processes.js';
import { FakeAdapter } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.restoreAllMocks();
});

async function unreachableStore(): Promise<DynamoStore> {
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${await freePort()}`, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  cleanups.push(() => client.destroy());
  return new DynamoStore({ tableName: 'parley-test-store', client });
}

it("a claim's take-back that gave up is one warn line in the bot's logger, none on stderr", async () => {
  const stderr = vi.spyOn(console, 'warn');
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
  const store = await unreachableStore();
  const bot = createBot({ adapters: [new FakeAdapter()], store, logger, env: {}, config: { shutdownTimeoutMs: 100 } });
  cleanups.push(async () => void (await bot.close()));
  await expect(store.setIfAbsent('parley:seen:Ev1', '1', 60_000)).rejects.toThrow();
  await store.close(); // the take-back going on in the background gives up
  await store.settled();
  const gaveUp = lines.filter((line) => /gave up taking back a claim/.test(String(line.msg)));
  expect(gaveUp).toHaveLength(1);
  expect(gaveUp[0]).toMatchObject({ level: 40, table: 'parley-test-store', key: 'parley:seen:Ev1' });
  expect(stderr.mock.calls.filter((call) => /gave up taking back/.test(String(call[0])))).toEqual([]);
});

it('a logger given to the store itself is kept', async () => {
  const own: unknown[] = [];
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${await freePort()}`, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  cleanups.push(() => client.destroy());
  const store = new DynamoStore({ tableName: 'parley-test-store', client, logger: { warn: (...line: unknown[]) => void own.push(line) } });
  const bot = createBot({ adapters: [new FakeAdapter()], store, env: {}, config: { logLevel: 'silent', shutdownTimeoutMs: 100 } });
  cleanups.push(async () => void (await bot.close()));
  await expect(store.setIfAbsent('parley:seen:Ev2', '1', 60_000)).rejects.toThrow();
  await store.close();
  await store.settled();
  expect(own).toHaveLength(1);
});

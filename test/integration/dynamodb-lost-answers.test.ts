/**
 * DynamoStore's claims and the conversation log when DynamoDB applied a conditional write but its
 * answer was lost — DynamoDB's 500 InternalServerError ("may or may not have succeeded") or a reset
 * connection — so the AWS SDK sent it again, and the retry's condition failed against the item its
 * own first try wrote. A claim must still be won (once: a second caller loses), a log row written
 * once. The answer is lost at the HTTP boundary, by a proxy in front of the moto server.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConversationLogTable, createStoreTable, DynamoConversationLog, DynamoStore, storeTableName } from '../../aws/index.js';
import type { ConversationEntry } from '../../src/index.js';
import { createServer } from 'node:http';
import { forward, startLostAnswerProxy, type LostAnswerOptions } from '../helpers/lost-answer.js';
import { useMoto } from '../helpers/moto.js';

const moto = useMoto();
const storeTable = storeTableName('parley-lost');
const logTable = 'lost_answers_log';
let counter = 0;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  const client = new DynamoDBClient({});
  await createStoreTable(client, storeTable);
  await createConversationLogTable(client, logTable);
  client.destroy();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The first PutItem into `table` whose body mentions `text`. */
function putInto(table: string, text: string): LostAnswerOptions['picks'] {
  return (body, headers) => headers['x-amz-target'] === 'DynamoDB_20120810.PutItem' && body.includes(`"TableName":"${table}"`) && body.includes(text);
}

/**
 * A DynamoStore claim of `key` (the full key), not its take-back: the write carrying the call's own
 * id (`:claim`) without adding to `withdrawn`.
 */
function claimOf(key: string): LostAnswerOptions['picks'] {
  return (body, headers) => /\.(PutItem|UpdateItem)$/.test(String(headers['x-amz-target'])) && body.includes(`"${key}"`) && isClaim(body);
}

function isClaim(body: string): boolean {
  return body.includes('":claim"') && !body.includes('ADD #w');
}

/** A client whose first write that `picks` chooses is applied but answered with `fails`. */
async function clientLosing(picks: LostAnswerOptions['picks'], fails: '500' | 'reset') {
  const proxy = await startLostAnswerProxy(moto().url, { picks, fails });
  const client = new DynamoDBClient({ endpoint: proxy.url });
  cleanups.push(() => proxy.close(), () => client.destroy());
  return { client, proxy };
}

describe.each(['500', 'reset'] as const)('a claim whose write was applied, then answered with %s', (fails) => {
  it('setIfAbsent: the first caller wins, a second caller with the same value loses', async () => {
    const namespace = `c${++counter}:`;
    const { client, proxy } = await clientLosing(claimOf(`${namespace}parley:seen:Ev1`), fails);
    const store = new DynamoStore({ tableName: storeTable, namespace, client });
    const other = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => other.close());
    expect(await store.setIfAbsent('parley:seen:Ev1', '1', 60_000)).toBe(true);
    expect(proxy.picked.length).toBeGreaterThanOrEqual(2); // the SDK sent the applied claim again
    expect(await other.setIfAbsent('parley:seen:Ev1', '1', 60_000)).toBe(false);
    expect(await store.setIfAbsent('parley:seen:Ev1', '1', 60_000)).toBe(false); // a later call of the same store too
    expect(await store.get('parley:seen:Ev1')).toBe('1');
  });

  it('acquireLock: the lock is taken (its token releases it), and no one else gets it meanwhile', async () => {
    const namespace = `l${++counter}:`;
    const { client, proxy } = await clientLosing(claimOf(`${namespace}lock:conversation`), fails);
    const store = new DynamoStore({ tableName: storeTable, namespace, client });
    const other = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => other.close());
    const token = await store.acquireLock('lock:conversation', 60_000);
    expect(token).toBeTypeOf('string');
    expect(proxy.picked.length).toBeGreaterThanOrEqual(2);
    expect(await other.acquireLock('lock:conversation', 60_000)).toBeUndefined();
    expect(await store.releaseLock('lock:conversation', token!)).toBe(true);
    expect(await other.acquireLock('lock:conversation', 60_000)).toBeTypeOf('string');
  });
});

function entry(conversationId: string, extra: Partial<ConversationEntry> = {}): ConversationEntry {
  return {
    id: 'slack.Ev1',
    conversationId,
    timestamp: '2026-12-01T09:00:00.000Z',
    platform: 'slack',
    user: 'U1',
    input: 'hello',
    output: 'hi there',
    model: 'gpt-4o-mini',
    inputTokens: 120,
    outputTokens: 30,
    costUsd: 0.000036,
    latencyMs: 900,
    ...extra,
  };
}

describe('a claim whose write was applied, its answer later than the ack deadline', () => {
  it('setIfAbsent throws and takes its claim back: the platform\'s retry of the message is taken, not dropped as a duplicate', async () => {
    const namespace = `late${++counter}:`;
    const proxy = await startLostAnswerProxy(moto().url, { picks: claimOf(`${namespace}parley:seen:Ev1`), holdMs: 2000 });
    const client = new DynamoDBClient({ endpoint: proxy.url });
    cleanups.push(() => proxy.close(), () => client.destroy());
    const store = new DynamoStore({ tableName: storeTable, namespace, client });
    const retry = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => retry.close());
    await expect(store.setIfAbsent('parley:seen:Ev1', '1', 60_000)).rejects.toThrow(/aborted/i);
    expect(proxy.picked).toHaveLength(1); // applied once, then aborted: the claim was made
    expect(await retry.get('parley:seen:Ev1')).toBeUndefined();
    expect(await retry.setIfAbsent('parley:seen:Ev1', '1', 60_000)).toBe(true);
  });

  it('also when the claim was answered with a 500, and the read of whose it is misses the deadline', async () => {
    const namespace = `late${++counter}:`;
    // The first claim applied but answered 500 (the SDK tries again and meets its own item); every GetItem answered 1 s late.
    let failedOnce = false;
    const proxy = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const target = String(incoming.headers['x-amz-target']);
        void forward(moto().url, incoming.method ?? 'POST', incoming.url ?? '/', incoming.headers, Buffer.concat(chunks)).then(async (answer) => {
          if (isClaim(Buffer.concat(chunks).toString()) && !failedOnce) {
            failedOnce = true;
            return void outgoing.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'com.amazon.coral.service#InternalServerError', message: 'Internal server error' }));
          }
          if (target.endsWith('.GetItem')) await new Promise((resolve) => setTimeout(resolve, 1000));
          outgoing.writeHead(answer.status, answer.headers).end(answer.body);
        }, () => outgoing.destroy());
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` });
    cleanups.push(() => new Promise<void>((resolve) => (proxy.closeAllConnections(), proxy.close(() => resolve()))), () => client.destroy());
    const store = new DynamoStore({ tableName: storeTable, namespace, client });
    const retry = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => retry.close());
    await expect(store.setIfAbsent('parley:seen:Ev1', '1', 60_000)).rejects.toThrow(/aborted/i);
    expect(await retry.get('parley:seen:Ev1')).toBeUndefined();
    expect(await retry.setIfAbsent('parley:seen:Ev1', '1', 60_000)).toBe(true);
  });

  it.each([1, 2])('also when %i claims in a row were late reaching DynamoDB: each take-back lands first, and no claim then does', async (late) => {
    const namespace = `late${++counter}:`;
    // Every claim is held 1.5 s before it is forwarded (past the 0.8 s deadline): its take-back overtakes it.
    const proxy = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const claim = isClaim(Buffer.concat(chunks).toString());
        void new Promise((resolve) => setTimeout(resolve, claim ? 1500 : 0))
          .then(() => forward(moto().url, incoming.method ?? 'POST', incoming.url ?? '/', incoming.headers, Buffer.concat(chunks)))
          .then((answer) => void outgoing.writeHead(answer.status, answer.headers).end(answer.body), () => outgoing.destroy());
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` });
    cleanups.push(() => new Promise<void>((resolve) => (proxy.closeAllConnections(), proxy.close(() => resolve()))), () => client.destroy());
    const store = new DynamoStore({ tableName: storeTable, namespace, client });
    const retry = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => retry.close());
    for (let n = 1; n <= late; n++) await expect(store.setIfAbsent('parley:seen:Ev1', `delivery ${n}`, 60_000)).rejects.toThrow(/aborted/i);
    await new Promise((resolve) => setTimeout(resolve, 2000)); // the held claims reach DynamoDB now
    expect(await retry.get('parley:seen:Ev1')).toBeUndefined();
    expect(await retry.setIfAbsent('parley:seen:Ev1', 'retry', 60_000)).toBe(true);
    expect(await retry.get('parley:seen:Ev1')).toBe('retry');
    expect(await retry.setIfAbsent('parley:seen:Ev1', 'again', 60_000)).toBe(false); // and it is a claim like any other
  });

  /**
   * A proxy that holds the n-th claim it sees `delays[n].request` ms before forwarding it (on its
   * way to DynamoDB that long) and its answer `delays[n].answer` ms (applied, answered late); every
   * other request goes straight through. `sent` gets the operation of each request (DeleteItem, ...).
   */
  async function claimsDelayed(delays: { request?: number; answer?: number }[], sent: string[] = []): Promise<DynamoDBClient> {
    let claims = 0;
    const sleep = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));
    const proxy = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks);
        sent.push(String(incoming.headers['x-amz-target']).split('.').pop()!);
        const delay = isClaim(body.toString()) ? (delays[claims++] ?? {}) : {};
        void sleep(delay.request)
          .then(() => forward(moto().url, incoming.method ?? 'POST', incoming.url ?? '/', incoming.headers, body))
          .then(async (answer) => (await sleep(delay.answer), void outgoing.writeHead(answer.status, answer.headers).end(answer.body)))
          .catch(() => outgoing.destroy());
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` });
    cleanups.push(() => new Promise<void>((resolve) => (proxy.closeAllConnections(), proxy.close(() => resolve()))), () => client.destroy());
    return client;
  }

  it('a withdrawn claim landing late stays out though another delivery\'s claim landed and was withdrawn meanwhile', async () => {
    const namespace = `late${++counter}:`;
    // delivery A's claim is 3 s on its way (taken back at 0.8 s); delivery B's is applied at once, answered late, taken back too
    const client = await claimsDelayed([{ request: 3000 }, { answer: 2000 }]);
    const store = new DynamoStore({ tableName: storeTable, namespace, client });
    const retry = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => retry.close());
    await expect(store.setIfAbsent('parley:seen:Ev1', 'delivery A', 60_000)).rejects.toThrow(/aborted/i);
    await expect(store.setIfAbsent('parley:seen:Ev1', 'delivery B', 60_000)).rejects.toThrow(/aborted/i);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // A's claim reaches DynamoDB now, after B's take-back
    expect(await retry.get('parley:seen:Ev1')).toBeUndefined();
    expect(await retry.setIfAbsent('parley:seen:Ev1', 'retry', 60_000)).toBe(true);
  });

  it('a withdrawn claim landing late stays out though the live claim it met when taken back was withdrawn meanwhile', async () => {
    const namespace = `late${++counter}:`;
    // A's claim is 3 s on its way; B's, sent 0.2 s later, is applied at once and answered late: A is
    // taken back (at 0.8 s) while B's claim is live, then B is taken back (at 1 s), then A lands
    const client = await claimsDelayed([{ request: 3000 }, { answer: 2000 }]);
    const store = new DynamoStore({ tableName: storeTable, namespace, client });
    const other = new DynamoStore({ tableName: storeTable, namespace, client });
    const retry = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => retry.close());
    const a = store.setIfAbsent('parley:seen:Ev1', 'delivery A', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const b = other.setIfAbsent('parley:seen:Ev1', 'delivery B', 60_000);
    await expect(a).rejects.toThrow(/aborted/i);
    await expect(b).rejects.toThrow(/aborted/i);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // A's claim reaches DynamoDB now
    expect(await retry.get('parley:seen:Ev1')).toBeUndefined();
    expect(await retry.setIfAbsent('parley:seen:Ev1', 'retry', 60_000)).toBe(true);
  });

  it('a withdrawn claim landing late stays out though a later claim was released (deleted) meanwhile', async () => {
    const namespace = `late${++counter}:`;
    // delivery A's claim is 3 s on its way (taken back at 0.8 s); redelivery B's is claimed, then released
    // (Store.delete, as claimDelivery does when the message cannot be queued); then A lands
    const client = await claimsDelayed([{ request: 3000 }]);
    const store = new DynamoStore({ tableName: storeTable, namespace, client });
    const other = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => other.close());
    await expect(store.setIfAbsent('parley:seen:Ev1', 'delivery A', 60_000)).rejects.toThrow(/aborted/i);
    expect(await other.setIfAbsent('parley:seen:Ev1', 'delivery B', 60_000)).toBe(true);
    await other.delete('parley:seen:Ev1');
    // what is left (the ids taken back) reads as an absent key
    expect(await other.get('parley:seen:Ev1')).toBeUndefined();
    expect(await other.listRange('parley:seen:Ev1', 0, -1)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // A's claim reaches DynamoDB now
    expect(await other.get('parley:seen:Ev1')).toBeUndefined();
    expect(await other.setIfAbsent('parley:seen:Ev1', 'redelivery C', 60_000)).toBe(true);
    expect(await other.get('parley:seen:Ev1')).toBe('redelivery C');
  });

  it('a lock taken back landing late stays out though a later lock was released meanwhile', async () => {
    const namespace = `late${++counter}:`;
    const client = await claimsDelayed([{ request: 3000 }]);
    const store = new DynamoStore({ tableName: storeTable, namespace, client });
    const other = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => other.close());
    await expect(store.acquireLock('lock:conversation', 60_000)).rejects.toThrow(/aborted/i);
    const token = await other.acquireLock('lock:conversation', 60_000);
    expect(token).toBeTypeOf('string');
    expect(await other.releaseLock('lock:conversation', token!)).toBe(true);
    // the marker left is no lock: not extended, not released again
    expect(await other.extendLock('lock:conversation', token!, 60_000)).toBe(false);
    expect(await other.releaseLock('lock:conversation', token!)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // the first lock's claim reaches DynamoDB now
    expect(await other.acquireLock('lock:conversation', 60_000)).toBeTypeOf('string');
  });

  /** `step` again, twice at most, when the store's deadline cut it off ("Request aborted"). */
  async function againIfCutOff<T>(step: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (error) {
        if (attempt >= 3 || !/aborted/i.test(String(error))) throw error;
      }
    }
  }

  it('a delete, or a lock\'s release, of an item without ids taken back is one DeleteItem', async () => {
    const namespace = `late${++counter}:`;
    const sent: string[] = [];
    const store = new DynamoStore({ tableName: storeTable, namespace, client: await claimsDelayed([], sent) });
    // Set-up, under the store's 800 ms deadline on claims: moto has taken longer on a loaded machine
    // (a CI run); a claim cut off is taken back, and claimable again.
    expect(await againIfCutOff(() => store.setIfAbsent('parley:seen:Ev1', '1', 60_000))).toBe(true);
    const token = await againIfCutOff(() => store.acquireLock('lock:conversation', 60_000));
    sent.length = 0;
    await store.delete('parley:seen:Ev1');
    expect(await store.releaseLock('lock:conversation', token!)).toBe(true);
    expect(sent).toEqual(['DeleteItem', 'DeleteItem']);
    expect(await store.get('parley:seen:Ev1')).toBeUndefined();
    expect(await store.setIfAbsent('parley:seen:Ev1', '2', 60_000)).toBe(true);
  });

  it('takes back only its own claim: one another caller made meanwhile stays', async () => {
    const namespace = `late${++counter}:`;
    const other = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => other.close());
    // Between our claim being applied and taken back, the item is replaced by another caller's (its own claim id).
    const proxy = await startLostAnswerProxy(moto().url, {
      picks: claimOf(`${namespace}parley:seen:Ev1`),
      holdMs: 2000,
      afterApplied: async () => {
        await other.delete('parley:seen:Ev1');
        expect(await other.setIfAbsent('parley:seen:Ev1', 'theirs', 60_000)).toBe(true);
      },
    });
    const client = new DynamoDBClient({ endpoint: proxy.url });
    cleanups.push(() => proxy.close(), () => client.destroy());
    const store = new DynamoStore({ tableName: storeTable, namespace, client });
    await expect(store.setIfAbsent('parley:seen:Ev1', 'ours', 60_000)).rejects.toThrow(/aborted/i);
    expect(await other.get('parley:seen:Ev1')).toBe('theirs');
  });
});

describe.each(['500', 'reset'] as const)('a conversation log row whose PutItem was applied, then answered with %s', (fails) => {
  async function rows(conversationId: string) {
    const admin = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    try {
      const { Items = [] } = await admin.send(new ScanCommand({ TableName: logTable, ConsistentRead: true }));
      return Items.filter((item) => item.conversation_id === conversationId).map((item) => [item.timestamp, item.exchange_id, item.input, item.input_tokens]);
    } finally {
      admin.destroy();
    }
  }

  it('is written once: its tokens and cost are not counted twice', async () => {
    const conversation = `conv-${fails}-${++counter}`;
    const { client, proxy } = await clientLosing(putInto(logTable, conversation), fails);
    const log = new DynamoConversationLog({ tableName: logTable, client });
    await log.record(entry(conversation));
    expect(proxy.picked.length).toBeGreaterThanOrEqual(2);
    expect(await rows(conversation)).toEqual([['2026-12-01T09:00:00.000Z', 'slack.Ev1', 'hello', 120]]);
  });

  it('an apology (no exchange id) is written once too', async () => {
    const conversation = `apology-${fails}-${++counter}`;
    const { client, proxy } = await clientLosing(putInto(logTable, conversation), fails);
    const log = new DynamoConversationLog({ tableName: logTable, client });
    await log.record(entry(conversation, { id: undefined, outcome: 'apologised', model: 'none', inputTokens: 0, outputTokens: 0, costUsd: 0 }));
    expect(proxy.picked.length).toBeGreaterThanOrEqual(2);
    expect(await rows(conversation)).toEqual([['2026-12-01T09:00:00.000Z', undefined, 'hello', 0]]);
  });

  it('another exchange in the same millisecond still moves on by a millisecond', async () => {
    const conversation = `other-${fails}-${++counter}`;
    const { client } = await clientLosing(putInto(logTable, `"${conversation}"`), fails);
    const log = new DynamoConversationLog({ tableName: logTable, client });
    await log.record(entry(conversation));
    await log.record(entry(conversation, { id: 'slack.Ev2', input: 'again' }));
    expect(await rows(conversation)).toEqual([
      ['2026-12-01T09:00:00.000Z', 'slack.Ev1', 'hello', 120],
      ['2026-12-01T09:00:00.001Z', 'slack.Ev2', 'again', 120],
    ]);
  });
});

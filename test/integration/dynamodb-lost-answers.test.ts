/**
 * DynamoStore's claims and the conversation log when DynamoDB applied a conditional write but its
 * answer was lost — DynamoDB's 500 InternalServerError ("may or may not have succeeded") or a reset
 * connection — so the AWS SDK sent it again, and the retry's condition failed against the item its
 * own first try wrote. A claim must still be won (once: a second caller loses), a log row written
 * once. The answer is lost at the HTTP boundary, by a proxy in front of the moto server.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
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

/**
 * `step` again, twice at most, when the store's 800 ms deadline on claims cut it off ("Request
 * aborted"): moto has answered later than that on a loaded machine (CI runs). A claim cut off is
 * taken back, and claimable again.
 */
async function againIfCutOff<T>(step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= 3 || !/aborted/i.test(String(error))) throw error;
    }
  }
}

type Answer = Awaited<ReturnType<typeof forward>>;

/** DynamoDB's answer to a claim refused: its condition failed. */
function refused(answer: Answer): boolean {
  return answer.status === 400 && answer.body.toString().includes('ConditionalCheckFailedException');
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => ((resolve = yes), (reject = no)));
  return { promise, resolve, reject };
}

/** claimsDelayed's proxy: the client through it, and what it saw. */
interface ClaimsProxy {
  client: DynamoDBClient;
  /** The operation of each request it got (DeleteItem, ...), in order. */
  sent: string[];
  /** The n-th claim (from 0) reached the proxy. */
  arrived(n: number): Promise<void>;
  /** Forward the n-th claim, held until now. */
  letGo(n: number): void;
  /** DynamoDB's answer to the n-th claim, once forwarded: it was applied or refused. */
  landed(n: number): Promise<Answer>;
  /** Every request but the claims forwarded so far has DynamoDB's answer (the take-backs were applied). */
  forwarded(): Promise<void>;
  /** With `takeBacks: 'held'`: the n-th take-back (from 0) reached the proxy. */
  takeBackArrived(n: number): Promise<void>;
  /** Forward the take-backs held, but those their client gave up on (cut off by its deadline): they never reach DynamoDB. */
  letTakeBacksGo(): void;
  /** How many take-backs were held and then dropped, their client gone. */
  dropped(): number;
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
    expect(await againIfCutOff(() => retry.setIfAbsent('parley:seen:Ev1', '1', 60_000))).toBe(true);
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
    expect(await againIfCutOff(() => retry.setIfAbsent('parley:seen:Ev1', '1', 60_000))).toBe(true);
  });

  /**
   * A proxy in front of moto for the claims the tests hold on their way to DynamoDB. The n-th claim
   * it gets (from 0) is forwarded at once, or with `delays[n].request` 'held' only when the test
   * lets it go (it is late past any deadline: the store took it back meanwhile); with
   * `delays[n].answer` 'lost' it is applied but its answer never sent (the store gives up at its
   * deadline). Every other request goes straight through. The tests wait on what the proxy saw,
   * not on the clock: a claim's answer from DynamoDB once let go, every request forwarded so far
   * answered. With `takeBacks: 'held'`, the take-backs (the writes adding to `withdrawn`) are held
   * too, until the test lets them go; one whose client has given up on it by then is dropped.
   */
  async function claimsDelayed(delays: { request?: 'held'; answer?: 'lost' }[] = [], options: { takeBacks?: 'held' } = {}): Promise<ClaimsProxy> {
    const sent: string[] = [];
    const answered: Promise<unknown>[] = [];
    const claims: { arrived: Deferred<void>; go: Deferred<void>; landed: Deferred<Answer> }[] = [];
    const claim = (n: number) => {
      if (claims[n]) return claims[n];
      claims[n] = { arrived: deferred(), go: deferred(), landed: deferred() };
      claims[n].landed.promise.catch(() => undefined); // a test that never asks is not failed by it
      return claims[n];
    };
    let seen = 0;
    const takeBacks: Deferred<void>[] = [];
    const takeBack = (n: number) => (takeBacks[n] ??= deferred());
    let takeBacksSeen = 0;
    let dropped = 0;
    const takeBacksGo = deferred<void>();
    const proxy = createServer((incoming, outgoing) => {
      let gone = false;
      outgoing.on('close', () => void (gone = true));
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks);
        sent.push(String(incoming.headers['x-amz-target']).split('.').pop()!);
        const n = isClaim(body.toString()) ? seen++ : undefined;
        const delay = n === undefined ? {} : (delays[n] ?? {});
        if (n !== undefined) claim(n).arrived.resolve();
        if (n !== undefined && delay.request !== 'held') claim(n).go.resolve();
        const held = n === undefined && options.takeBacks === 'held' && body.toString().includes('ADD #w');
        if (held) takeBack(takeBacksSeen++).resolve();
        const answer = (n === undefined ? (held ? takeBacksGo.promise : Promise.resolve()) : claim(n).go.promise)
          .then(() => {
            if (!held || !gone) return;
            dropped++;
            throw new Error('its client gave up on it');
          })
          .then(() => forward(moto().url, incoming.method ?? 'POST', incoming.url ?? '/', incoming.headers, body));
        if (n === undefined) answered.push(answer.catch(() => undefined));
        else void answer.then(claim(n).landed.resolve, claim(n).landed.reject);
        void answer
          .then((got) => void (delay.answer === 'lost' ? undefined : outgoing.writeHead(got.status, got.headers).end(got.body)))
          .catch(() => outgoing.destroy());
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` });
    cleanups.push(() => new Promise<void>((resolve) => (proxy.closeAllConnections(), proxy.close(() => resolve()))), () => client.destroy());
    // the client's first call (credentials, modules loaded, a connection) made before the test's, under no deadline
    await client.send(new DescribeTableCommand({ TableName: storeTable }));
    sent.length = 0;
    answered.length = 0;
    return {
      client,
      sent,
      arrived: (n) => claim(n).arrived.promise,
      letGo: (n) => claim(n).go.resolve(),
      landed: (n) => claim(n).landed.promise,
      forwarded: async () => void (await Promise.all(answered)),
      takeBackArrived: (n) => takeBack(n).promise,
      letTakeBacksGo: () => takeBacksGo.resolve(),
      dropped: () => dropped,
    };
  }

  it.each([1, 2])('also when %i claims in a row were late reaching DynamoDB: each take-back lands first, and no claim then does', async (late) => {
    const namespace = `late${++counter}:`;
    // Every claim is held on its way past the 0.8 s deadline: its take-back overtakes it.
    const proxy = await claimsDelayed([{ request: 'held' }, { request: 'held' }]);
    const store = new DynamoStore({ tableName: storeTable, namespace, client: proxy.client });
    const retry = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => retry.close());
    for (let n = 1; n <= late; n++) await expect(store.setIfAbsent('parley:seen:Ev1', `delivery ${n}`, 60_000)).rejects.toThrow(/aborted/i);
    await proxy.forwarded(); // the take-backs reached DynamoDB
    for (let n = 0; n < late; n++) proxy.letGo(n); // the held claims reach DynamoDB now: refused
    for (let n = 0; n < late; n++) expect(refused(await proxy.landed(n))).toBe(true);
    expect(await retry.get('parley:seen:Ev1')).toBeUndefined();
    expect(await againIfCutOff(() => retry.setIfAbsent('parley:seen:Ev1', 'retry', 60_000))).toBe(true);
    expect(await retry.get('parley:seen:Ev1')).toBe('retry');
    expect(await againIfCutOff(() => retry.setIfAbsent('parley:seen:Ev1', 'again', 60_000))).toBe(false); // and it is a claim like any other
  });

  it('a take-back the ack deadline cut off goes on in the background: the late claim stays out, the redelivery is taken', async () => {
    const namespace = `late${++counter}:`;
    // The claim is held on its way past the 0.8 s deadline, and so is its take-back (cut off at 0.8 s,
    // it never reaches DynamoDB) and every take-back after it, until the test lets them go.
    const proxy = await claimsDelayed([{ request: 'held' }], { takeBacks: 'held' });
    const warnings: unknown[] = [];
    const store = new DynamoStore({ tableName: storeTable, namespace, client: proxy.client, logger: { warn: (...line: unknown[]) => void warnings.push(line) } });
    const retry = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => retry.close());
    await expect(store.setIfAbsent('parley:seen:Ev1', 'delivery A', 60_000)).rejects.toThrow(/aborted/i);
    await proxy.takeBackArrived(1); // tried again after the deadline, in the background
    proxy.letTakeBacksGo();
    await store.settled(); // the background take-back reached DynamoDB
    expect(proxy.dropped()).toBe(1); // the one cut off did not
    proxy.letGo(0); // the claim reaches DynamoDB now: refused
    expect(refused(await proxy.landed(0))).toBe(true);
    expect(await retry.get('parley:seen:Ev1')).toBeUndefined();
    expect(await againIfCutOff(() => retry.setIfAbsent('parley:seen:Ev1', 'retry', 60_000))).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('a redelivery reaching the store while that take-back goes on takes the late claim back first: taken, not dropped', async () => {
    const namespace = `late${++counter}:`;
    const proxy = await claimsDelayed([{ request: 'held' }], { takeBacks: 'held' });
    const store = new DynamoStore({ tableName: storeTable, namespace, client: proxy.client });
    cleanups.push(() => store.close());
    await expect(store.setIfAbsent('parley:seen:Ev1', 'delivery A', 60_000)).rejects.toThrow(/aborted/i);
    await proxy.takeBackArrived(1); // going on in the background, held
    proxy.letGo(0); // the late claim lands: applied, live
    expect(refused(await proxy.landed(0))).toBe(false);
    // The platform's redelivery reaches the same process (a Lambda thawed by it) before the background take-back is done.
    const redelivery = againIfCutOff(() => store.setIfAbsent('parley:seen:Ev1', 'redelivery', 60_000));
    await Promise.race([proxy.takeBackArrived(2), redelivery]); // the old code answered at once: a duplicate
    proxy.letTakeBacksGo();
    expect(await redelivery).toBe(true);
    await store.settled();
    const retry = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => retry.close());
    expect(await retry.get('parley:seen:Ev1')).toBe('redelivery');
  });

  it('a withdrawn claim landing late stays out though another delivery\'s claim landed and was withdrawn meanwhile', async () => {
    const namespace = `late${++counter}:`;
    // delivery A's claim is held on its way (taken back at 0.8 s); delivery B's is applied at once, its answer lost, taken back too
    const proxy = await claimsDelayed([{ request: 'held' }, { answer: 'lost' }]);
    const store = new DynamoStore({ tableName: storeTable, namespace, client: proxy.client });
    const retry = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => retry.close());
    await expect(store.setIfAbsent('parley:seen:Ev1', 'delivery A', 60_000)).rejects.toThrow(/aborted/i);
    await expect(store.setIfAbsent('parley:seen:Ev1', 'delivery B', 60_000)).rejects.toThrow(/aborted/i);
    expect(refused(await proxy.landed(1))).toBe(false); // B's claim was applied
    await proxy.forwarded(); // the take-backs reached DynamoDB
    proxy.letGo(0); // A's claim reaches DynamoDB now, after B's take-back: refused
    expect(refused(await proxy.landed(0))).toBe(true);
    expect(await retry.get('parley:seen:Ev1')).toBeUndefined();
    expect(await againIfCutOff(() => retry.setIfAbsent('parley:seen:Ev1', 'retry', 60_000))).toBe(true);
  });

  it('a withdrawn claim landing late stays out though the live claim it met when taken back was withdrawn meanwhile', async () => {
    const namespace = `late${++counter}:`;
    // A's claim is held on its way; B's, sent once A's is, is applied at once and its answer lost: A
    // is taken back (at 0.8 s) while B's claim is live, then B is taken back, then A lands
    const proxy = await claimsDelayed([{ request: 'held' }, { answer: 'lost' }]);
    const store = new DynamoStore({ tableName: storeTable, namespace, client: proxy.client });
    const other = new DynamoStore({ tableName: storeTable, namespace, client: proxy.client });
    const retry = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => retry.close());
    const a = expect(store.setIfAbsent('parley:seen:Ev1', 'delivery A', 60_000)).rejects.toThrow(/aborted/i);
    await proxy.arrived(0);
    const b = expect(other.setIfAbsent('parley:seen:Ev1', 'delivery B', 60_000)).rejects.toThrow(/aborted/i);
    await a;
    await b;
    expect(refused(await proxy.landed(1))).toBe(false); // B's claim was applied
    await proxy.forwarded(); // the take-backs reached DynamoDB
    proxy.letGo(0); // A's claim reaches DynamoDB now: refused
    expect(refused(await proxy.landed(0))).toBe(true);
    expect(await retry.get('parley:seen:Ev1')).toBeUndefined();
    expect(await againIfCutOff(() => retry.setIfAbsent('parley:seen:Ev1', 'retry', 60_000))).toBe(true);
  });

  it('a withdrawn claim landing late stays out though a later claim was released (deleted) meanwhile', async () => {
    const namespace = `late${++counter}:`;
    // delivery A's claim is held on its way (taken back at 0.8 s); redelivery B's is claimed, then released
    // (Store.delete, as claimDelivery does when the message cannot be queued); then A lands
    const proxy = await claimsDelayed([{ request: 'held' }]);
    const store = new DynamoStore({ tableName: storeTable, namespace, client: proxy.client });
    const other = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => other.close());
    await expect(store.setIfAbsent('parley:seen:Ev1', 'delivery A', 60_000)).rejects.toThrow(/aborted/i);
    await proxy.forwarded(); // A's take-back reached DynamoDB
    expect(await againIfCutOff(() => other.setIfAbsent('parley:seen:Ev1', 'delivery B', 60_000))).toBe(true);
    await againIfCutOff(() => other.delete('parley:seen:Ev1'));
    // what is left (the ids taken back) reads as an absent key
    expect(await other.get('parley:seen:Ev1')).toBeUndefined();
    expect(await other.listRange('parley:seen:Ev1', 0, -1)).toEqual([]);
    proxy.letGo(0); // A's claim reaches DynamoDB now: refused
    expect(refused(await proxy.landed(0))).toBe(true);
    expect(await other.get('parley:seen:Ev1')).toBeUndefined();
    expect(await againIfCutOff(() => other.setIfAbsent('parley:seen:Ev1', 'redelivery C', 60_000))).toBe(true);
    expect(await other.get('parley:seen:Ev1')).toBe('redelivery C');
  });

  it('a lock taken back landing late stays out though a later lock was released meanwhile', async () => {
    const namespace = `late${++counter}:`;
    const proxy = await claimsDelayed([{ request: 'held' }]);
    const store = new DynamoStore({ tableName: storeTable, namespace, client: proxy.client });
    const other = new DynamoStore({ tableName: storeTable, namespace });
    cleanups.push(() => other.close());
    await expect(store.acquireLock('lock:conversation', 60_000)).rejects.toThrow(/aborted/i);
    await proxy.forwarded(); // its take-back reached DynamoDB
    const token = await againIfCutOff(() => other.acquireLock('lock:conversation', 60_000));
    expect(token).toBeTypeOf('string');
    expect(await other.releaseLock('lock:conversation', token!)).toBe(true);
    // the marker left is no lock: not extended, not released again
    expect(await other.extendLock('lock:conversation', token!, 60_000)).toBe(false);
    expect(await other.releaseLock('lock:conversation', token!)).toBe(false);
    proxy.letGo(0); // the first lock's claim reaches DynamoDB now: refused
    expect(refused(await proxy.landed(0))).toBe(true);
    expect(await againIfCutOff(() => other.acquireLock('lock:conversation', 60_000))).toBeTypeOf('string');
  });

  it('a delete, or a lock\'s release, of an item without ids taken back is one DeleteItem', async () => {
    const namespace = `late${++counter}:`;
    const { client, sent } = await claimsDelayed();
    const store = new DynamoStore({ tableName: storeTable, namespace, client });
    // set-up, under the store's 800 ms deadline on claims (againIfCutOff)
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
        await againIfCutOff(() => other.delete('parley:seen:Ev1'));
        expect(await againIfCutOff(() => other.setIfAbsent('parley:seen:Ev1', 'theirs', 60_000))).toBe(true);
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

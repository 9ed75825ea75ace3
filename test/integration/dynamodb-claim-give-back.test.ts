/**
 * A delivery claim owed on DynamoDB (moto) whose give-back landed though its answer was an error:
 * the key is free, and the platform's retry reaching another process claims it afresh and is
 * queued. The give-back retried in the background must not delete that claim (DynamoDB has no
 * compare-and-delete command: the delete is conditional on the claim's value), or the next retry
 * would be queued a second time.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStoreTable, DynamoStore, storeTableName } from '../../aws/index.js';
import { owedClaimsOf } from '../../src/claim-release.js';
import { ingest, type IngestDeps } from '../../src/ingest.js';
import type { JobData } from '../../src/jobs.js';
import { unlimited } from '../../src/limit/index.js';
import { createMetrics } from '../../src/observe/index.js';
import { MemoryQueue, type NewJob } from '../../src/queue/index.js';
import type { Store } from '../../src/store/index.js';
import { useMoto } from '../helpers/moto.js';
import { inbound, silentLogger, waitFor } from '../unit/helpers.js';

// One request at a time on a loaded machine: the ack-path calls get time enough (see dynamodb-store.test.ts).
vi.mock('../../aws/deadlines.js', async (importOriginal) => ({ ...(await importOriginal<typeof import('../../aws/deadlines.js')>()), ACK_CALL_MS: 30_000 }));

useMoto();
const tableName = storeTableName('claim-give-back');
const opened: Store[] = [];
let counter = 0;

/** A queue that refuses while `refusing` (SQS answering 500). */
class RefusingQueue extends MemoryQueue<JobData> {
  refusing = false;
  override async add(job: NewJob<JobData>): Promise<boolean> {
    if (this.refusing) throw new Error('SQS SendMessage: 500 InternalError');
    return super.add(job);
  }
}

/** `inner` whose deletes, while `state.failing`, are carried out but answered with an error (an answer lost). */
function losingAnswers(inner: DynamoStore, state: { failing: boolean }): Store {
  return new Proxy(inner, {
    get(target, name) {
      const member: unknown = Reflect.get(target, name, target);
      if (typeof member !== 'function') return member;
      if (name !== 'delete' && name !== 'deleteIf') return member.bind(target);
      return async (...args: unknown[]) => {
        const done: unknown = await member.apply(target, args);
        if (state.failing) throw new Error('DynamoDB DeleteItem: 500 InternalServerError');
        return done;
      };
    },
  });
}

beforeAll(async () => {
  const client = new DynamoDBClient({});
  await createStoreTable(client, tableName);
  client.destroy();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

describe('a delivery claim owed on DynamoDB', () => {
  it("given back late, leaves another process's fresh claim alone: the message is queued once", async () => {
    const namespace = `t${++counter}-${Date.now()}:`;
    const here = new DynamoStore({ tableName, namespace });
    const there = new DynamoStore({ tableName, namespace });
    opened.push(here, there);
    const queue = new RefusingQueue({ attempts: 1, backoffMs: 1, maxBackoffMs: 1 });
    const deps = (store: Store): IngestDeps => ({ store, queue, userLimiter: unlimited, metrics: createMetrics(), logger: silentLogger, releaseWaitMs: () => 0 });
    const state = { failing: true };
    const store = losingAnswers(here, state);
    const message = inbound();

    queue.refusing = true;
    await expect(ingest(deps(store), message)).rejects.toThrow('500 InternalError');
    expect(owedClaimsOf(store).size).toBe(1);
    // Slack's retry reaches the other process: the key is free (the release landed), so it is claimed and queued.
    queue.refusing = false;
    expect(await ingest(deps(there), { ...message })).toBe('queued');
    state.failing = false;
    await waitFor(() => owedClaimsOf(store).size === 0, 10_000, 'the owed claim settled');
    // A further retry (the first one's answer was late) is a duplicate: the fresh claim is still there.
    expect(await ingest(deps(there), { ...message })).toBe('duplicate');
    expect((await queue.counts()).waiting).toBe(1);
    await queue.close(0);
  }, 30_000);
});

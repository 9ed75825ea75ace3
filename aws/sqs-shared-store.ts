/**
 * SQS hands each message to whichever instance polls: every Lambda instance, every worker process.
 * What the worker keeps in the store (delivery claims, reply markers, attempt counts) must then be
 * shared by them all; a store in memory is each instance's own, and a reply can be posted twice.
 */
import { MemoryStore, type Store } from '../src/index.js';

/** The warning for a bot on SQS whose store is in memory (undefined for a shared store). */
export function unsharedStoreWarning(store: Store): string | undefined {
  if (!(store instanceof MemoryStore)) return undefined;
  return 'the queue is on SQS (SQS_QUEUE_URL) but the store is in memory, this instance\'s own: delivery claims, reply markers and attempt counts are not shared between instances, so a reply can be posted twice. Set DYNAMODB_TABLE_PREFIX (with createBot({ config, ...dynamoDbFromConfig(config) })) or REDIS_URL';
}

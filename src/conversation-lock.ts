/**
 * Direct mode's conversation lock: with no queue to keep a conversation's messages one at a time,
 * a process answering one holds its lock (kept alive by a heartbeat) while others wait for it.
 */
import { RetryAfterError } from './adapter.js';
import { keys } from './jobs.js';
import type { ConversationRef } from './message.js';
import type { Store } from './store/index.js';

const LOCK_POLL_MS = 50;
/** Past this, a busy conversation's job goes back to the queue rather than holding a worker. */
const LOCK_WAIT_MS = 30_000;

/** Wait for the conversation's lock (another process may be answering it) and keep it alive. */
export async function lockConversation(store: Store, conversation: ConversationRef, ttlMs: number): Promise<() => Promise<void>> {
  const key = keys.lock(conversation);
  const giveUpAt = Date.now() + LOCK_WAIT_MS;
  let token = await store.acquireLock(key, ttlMs);
  while (!token) {
    if (Date.now() > giveUpAt) throw new RetryAfterError('the conversation is busy', 1000);
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    token = await store.acquireLock(key, ttlMs);
  }
  const owned = token;
  const heartbeat = setInterval(() => void store.extendLock(key, owned, ttlMs).catch(() => undefined), ttlMs / 3);
  heartbeat.unref();
  return async () => {
    clearInterval(heartbeat);
    await store.releaseLock(key, owned).catch(() => undefined);
  };
}

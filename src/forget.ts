/**
 * `AdapterContext.forget`: erase the model's history of a conversation, its answers in the
 * response cache, its conversation log entries and its messages' finished queue jobs (which hold their text), their apologies' too.
 * `AdapterContext.loggedBy`: whose the log's exchanges of a conversation are, to tell whose it was.
 */
import type { AdapterContext } from './adapter.js';
import { apologyId } from './apology.js';
import type { ConversationLog } from './conversation-log.js';
import { messageJobId } from './jobs.js';
import type { ConversationRef } from './message.js';
import type { JobQueue } from './queue/index.js';
import type { WorkerDeps } from './worker.js';
import { CachedAnswers } from './cached-answers.js';
import { MemoryResponseCache, type ResponseCache } from './ai/index.js';
import { MemoryStore, type Store } from './store/index.js';

/**
 * Where a conversation's cached answers are noted for its erase: only where the erase can reach the
 * cache, a shared (Redis) one or everything in this process. A cache of each process's own beside a
 * shared store (DynamoDB on Lambda) would pay a store write per answer for an erase reaching one process.
 */
export function cachedAnswersFor(store: Store, cache: ResponseCache, ttlSeconds: number): CachedAnswers | undefined {
  return cache instanceof MemoryResponseCache && !(store instanceof MemoryStore) ? undefined : new CachedAnswers(store, ttlSeconds);
}

/** How many of a conversation's newest exchanges `loggedBy` reads: all the Redis log keeps of one. */
const LOGGED_READ = 500;

/** The adapters' `forget` and `loggedBy`. */
export function forgetting(deps: Pick<WorkerDeps, 'history' | 'cachedAnswers' | 'ai' | 'conversationLog'>, queue: Pick<JobQueue<unknown>, 'forget'>): Pick<AdapterContext, 'forget' | 'loggedBy'> {
  return { forget: forgetter(deps, queue), loggedBy: loggedBy(deps.conversationLog) };
}

/** Who the log's exchanges under a conversation's id are by, each platform and user once (none without a log). */
export function loggedBy(conversationLog: ConversationLog | undefined): (conversation: ConversationRef) => Promise<{ platform: string; user: string }[]> {
  return async (conversation) => {
    const entries = (await conversationLog?.list(conversation.id, LOGGED_READ)) ?? [];
    return [...new Map(entries.map(({ platform, user }) => [`${platform}\n${user}`, { platform, user }])).values()];
  };
}

/** What the worker remembers of a conversation (`cachedAnswers`: the answers `ai`'s cache keeps), and the queue's jobs. */
export function forgetter(
  { history, cachedAnswers, ai, conversationLog }: Pick<WorkerDeps, 'history' | 'cachedAnswers' | 'ai' | 'conversationLog'>,
  queue: Pick<JobQueue<unknown>, 'forget'>,
): (conversation: ConversationRef, messages?: string[]) => Promise<void> {
  return async (conversation, messages = []) => {
    // Each part is erased even when another fails (the response cache may be a server of its own,
    // down while the rest is up): the caller cannot ask again once the transcript is gone. The first failure is thrown.
    const erased = await Promise.allSettled([
      history.clear(conversation),
      cachedAnswers?.forget(conversation, ai),
      conversationLog?.erase?.(conversation.id),
      // A job still waiting or running is left: it is answered (the adapter drops the answer), then kept as any other.
      // Their apologies' finished jobs go too: one for a message given up as stalled carries the message (NoticeJobData.givenUp).
      messages.length > 0 ? queue.forget?.(messages.map((id) => messageJobId({ platform: conversation.platform, id })).flatMap((job) => [job, apologyId(job)])) : undefined,
    ]);
    const failed = erased.find((part): part is PromiseRejectedResult => part.status === 'rejected');
    if (failed) throw failed.reason;
  };
}

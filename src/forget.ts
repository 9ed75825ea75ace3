/**
 * `AdapterContext.forget`: erase the model's history of a conversation, its conversation log
 * entries and its messages' finished queue jobs (which hold their text).
 */
import type { ConversationHistory } from './ai/history.js';
import type { ConversationLog } from './conversation-log.js';
import { messageJobId } from './jobs.js';
import type { ConversationRef } from './message.js';
import type { JobQueue } from './queue/index.js';

export function forgetter(history: ConversationHistory, log: ConversationLog, queue: Pick<JobQueue<unknown>, 'forget'>): (conversation: ConversationRef, messages?: string[]) => Promise<void> {
  return async (conversation, messages = []) => {
    await history.clear(conversation);
    await log.erase?.(conversation.id);
    // A job still waiting or running is left: it is answered (the adapter drops the answer), then kept as any other.
    if (messages.length > 0) await queue.forget?.(messages.map((id) => messageJobId({ platform: conversation.platform, id })));
  };
}

/** `AdapterContext.forget`: erase the model's history of a conversation and its conversation log entries. */
import type { ConversationHistory } from './ai/history.js';
import type { ConversationLog } from './conversation-log.js';
import type { ConversationRef } from './message.js';

export function forgetter(history: ConversationHistory, log: ConversationLog): (conversation: ConversationRef) => Promise<void> {
  return async (conversation) => {
    await history.clear(conversation);
    await log.erase?.(conversation.id);
  };
}

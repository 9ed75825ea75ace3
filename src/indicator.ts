/** The adapter's "thinking…" status, set and cleared around an answer. */
import type { Logger } from 'pino';
import type { Adapter } from './adapter.js';
import type { ConversationRef } from './message.js';

/** Set or clear the status; a failure is only logged (at debug): the answer matters, not its status. */
export async function indicate(adapter: Adapter, conversation: ConversationRef, state: 'thinking' | 'done', logger: Logger): Promise<void> {
  if (!adapter.indicate) return;
  try {
    await adapter.indicate(conversation, state);
  } catch (error) {
    logger.debug({ err: error, state }, 'indicator failed (ignored)');
  }
}

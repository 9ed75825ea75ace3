/**
 * What a developer's message handler receives, and the default handler: answer with the AI.
 */
import type { Logger } from 'pino';
import type { AiClient } from './ai/index.js';
import type { ConversationRef, InboundMessage, Reply, Turn } from './message.js';

export interface MessageContext {
  /** The resilient, cached AI client. */
  ai: AiClient;
  /** This conversation's earlier turns. */
  history: {
    /** The newest turns within the configured count and token budget, oldest first. */
    window(): Promise<Turn[]>;
    append(turns: Turn[]): Promise<void>;
  };
  /** Post a reply in the conversation; each reply is posted at most once per message. */
  reply(reply: Reply | string): Promise<void>;
  conversation: ConversationRef;
  logger: Logger;
  /** 1 on the first try of this message. */
  attempt: number;
}

/** A message handler: the default answers with the AI; `bot.onMessage` replaces it. */
export type MessageHandler = (message: InboundMessage, context: MessageContext) => Promise<void>;

/** The default behaviour: history window → AI → reply → remember both turns. */
export const answerWithAi: MessageHandler = async (message, context) => {
  const history = await context.history.window();
  const imageUrls = message.attachments
    ?.filter((a) => a.url && a.contentType?.startsWith('image/'))
    .map((a) => a.url as string);
  const result = await context.ai.reply({
    conversationId: message.conversation.id,
    history,
    text: message.text,
    ...(imageUrls && imageUrls.length > 0 ? { imageUrls } : {}),
  });
  await context.reply({ text: result.text, kind: 'answer' });
  const at = new Date().toISOString();
  await context.history.append([
    { role: 'user', text: message.text, at: message.receivedAt },
    { role: 'assistant', text: result.text, at },
  ]);
};

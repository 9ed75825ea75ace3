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
  /** True when the platform shows a reply as it is generated (Slack streaming). */
  canStream: boolean;
  /** Post a reply from text chunks: streamed where `canStream`, else as one message. Returns the whole text. */
  replyStream(chunks: AsyncIterable<string>): Promise<string>;
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
  const request = {
    conversationId: message.conversation.id,
    history,
    text: message.text,
    ...(imageUrls && imageUrls.length > 0 ? { imageUrls } : {}),
  };
  let answer: string;
  if (context.canStream && context.ai.stream) {
    const stream = context.ai.stream(request);
    answer = await context.replyStream(stream.chunks);
    await stream.result;
  } else {
    answer = (await context.ai.reply(request)).text;
    await context.reply({ text: answer, kind: 'answer' });
  }
  await context.history.append([
    { role: 'user', text: message.text, at: message.receivedAt },
    { role: 'assistant', text: answer, at: new Date().toISOString() },
  ]);
};

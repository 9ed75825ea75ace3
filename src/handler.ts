/**
 * What a developer's message handler receives, and the default handler: answer with the AI.
 */
import type { Logger } from 'pino';
import type { AiClient, AiResult } from './ai/index.js';
import { textForAi } from './attachment-notes.js';
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
  /**
   * Post a reply in the conversation; each reply is posted at most once per message. Resolves to
   * the text the user got: on a retry, that of an answer an earlier attempt began posting, when it
   * differs (the rest of its parts are posted, not this reply's).
   */
  reply(reply: Reply | string): Promise<string>;
  /** True when the platform shows a reply as it is generated (Slack streaming). */
  canStream: boolean;
  /** Post a reply from text chunks: streamed where `canStream`, else as one message. Returns the whole text. */
  replyStream(chunks: AsyncIterable<string>): Promise<string>;
  /** Hand the conversation to people, where the platform can (Intercom); a no-op elsewhere. */
  handOff(): Promise<void>;
  conversation: ConversationRef;
  logger: Logger;
  /** 1 on the first try of this message. */
  attempt: number;
  /**
   * Whether an earlier run of this message (a retry, a redelivery) already posted the handler's
   * next reply in full: then asking the AI again would only pay for an answer nobody sees. False
   * at once on a first run; a reply posted only in part is false (posting again finishes it).
   */
  postedBefore?(): Promise<boolean>;
  settings: HandlerSettings;
  /**
   * Write the exchange to the conversation log (who, what, the answer, model, tokens, cost,
   * latency). Never throws: a log that cannot be written costs a log line, not the message.
   */
  recordExchange(exchange: Exchange): Promise<void>;
}

/** One question and its answer, as a handler reports it to the conversation log. */
export interface Exchange {
  input: string;
  output: string;
  /** The AI's result (model, usage); absent when no AI answered. */
  result?: Pick<AiResult, 'model' | 'usage'>;
}

/** What the default handler says when it does not ask the AI. */
export interface HandlerSettings {
  /** Send image attachments to the model (it must support vision). */
  vision: boolean;
  /** The answer to a message with media but no text, when vision is off. */
  mediaNotice: string;
  /** The answer to a person asking for a human, before the handoff. */
  handoffReply: string;
}

/** A message handler: the default answers with the AI; `bot.onMessage` replaces it. */
export type MessageHandler = (message: InboundMessage, context: MessageContext) => Promise<unknown>;

/** The default behaviour: history window → AI → reply → remember both turns. */
export const answerWithAi: MessageHandler = async (message, context) => {
  if (message.handoff) {
    await context.reply({ text: context.settings.handoffReply, kind: 'notice' });
    await context.handOff();
    return;
  }
  const imageUrls = context.settings.vision
    ? message.attachments?.filter((a) => a.url && a.contentType?.startsWith('image/')).map((a) => a.url as string)
    : undefined;
  if (!message.text.trim() && !imageUrls?.length) {
    if (message.attachments?.length) await context.reply({ text: context.settings.mediaNotice, kind: 'notice' });
    return;
  }
  // Read together: a run that repeats an answered one (its SQS delete lost, a stalled job) makes no extra round trip.
  const [history, postedBefore] = await Promise.all([context.history.window(), context.postedBefore?.()]);
  // The AI is told of the files it is not shown ("[attachment: invoice.pdf]"), and remembers them.
  const text = textForAi(message.text, message.attachments, imageUrls);
  // The history names the images too: a later request does not show them again, and an image
  // sent alone would otherwise be an empty turn, which Anthropic-compatible endpoints refuse.
  const remembered = textForAi(message.text, message.attachments);
  // Posted and remembered by an earlier run: asking the AI again would pay for an answer nobody sees.
  // (Posted but not remembered, the AI is asked as before: the answer's text is kept nowhere else.)
  const earlier = postedBefore ? answeredIn(history, remembered, message.receivedAt) : undefined;
  if (earlier !== undefined) {
    context.logger.info('reply already posted by an earlier run of this message; not asking the AI again');
    await context.recordExchange({ input: message.text, output: earlier }); // unless it is in the log already
    return;
  }
  const request = {
    conversationId: message.conversation.id,
    history,
    text,
    ...(message.tenant ? { tenant: message.tenant } : {}),
    ...(imageUrls && imageUrls.length > 0 ? { imageUrls } : {}),
  };
  let answer: string;
  let result: AiResult;
  if (context.canStream && context.ai.stream) {
    const stream = context.ai.stream(request);
    if (await stream.notice) {
      // parley's own notice (a spent budget) is posted as one, never streamed as the model's answer.
      for await (const chunk of stream.chunks) void chunk;
      result = await stream.result;
      answer = await context.reply({ text: result.text, kind: 'notice', model: result.model });
    } else {
      answer = await context.replyStream(stream.chunks);
      result = await stream.result;
    }
  } else {
    result = await context.ai.reply(request);
    answer = await context.reply({ text: result.text, kind: result.notice ? 'notice' : 'answer', model: result.model });
  }
  // Both at once: on Redis they leave in one write.
  await Promise.all([
    context.recordExchange({ input: message.text, output: answer, result }),
    // parley's own notice (a spent budget) is not the model's turn: the next answer should not read it.
    result.notice
      ? undefined
      : context.history.append([
          { role: 'user', text: remembered, at: message.receivedAt },
          { role: 'assistant', text: answer, at: new Date().toISOString(), model: result.model },
        ]),
  ]);
};

/** The answer the history holds to the user's turn `text` of `at` (this message's), if it holds both. */
function answeredIn(history: Turn[], text: string, at: string): string | undefined {
  const index = history.findIndex((turn) => turn.role === 'user' && turn.text === text && turn.at === at);
  const answer = index < 0 ? undefined : history[index + 1];
  return answer?.role === 'assistant' ? answer.text : undefined;
}

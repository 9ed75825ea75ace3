/**
 * The response cache's answers given in each conversation (AiResult.cacheKey), so that erasing a
 * conversation (AdapterContext.forget) takes them out of the cache too: an answer often repeats
 * what the question said. A message's keys leave with its writes after the AI (the history, the
 * conversation log): on Redis in the same round trip, none of their own.
 */
import type { Logger } from 'pino';
import type { AiClient, AiResult } from './ai/index.js';
import type { ConversationRef } from './message.js';
import type { Store } from './store/index.js';

/** The most keys kept per conversation: the newest answers of a conversation busier than this within the cache's TTL. */
export const MAX_ANSWER_KEYS = 200;
/** How long keys are kept when CACHE_TTL_SECONDS is 0 yet a client of your own still names cached answers. */
const DEFAULT_TTL_SECONDS = 3600;

export class CachedAnswers {
  private readonly ttlMs: number;

  /** `ttlSeconds`: CACHE_TTL_SECONDS, so the list lives as long as the newest answer it names (older ones expire before). */
  constructor(
    private readonly store: Store,
    ttlSeconds: number,
  ) {
    this.ttlMs = (ttlSeconds > 0 ? ttlSeconds : DEFAULT_TTL_SECONDS) * 1000;
  }

  /** Take this conversation's cached answers out of `ai`'s cache, then the list of them. */
  async forget(conversation: ConversationRef, ai: AiClient): Promise<void> {
    const keys = await this.store.listRange(key(conversation), 0, -1);
    // Another conversation's identical question may have been answered from one of them: it costs it one miss.
    if (keys.length > 0) await ai.forgetCached?.([...new Set(keys)]);
    await this.store.delete(key(conversation));
  }

  /** One message's view: its AI notes each answer's key, written with the message's next write. */
  forMessage(ai: AiClient, conversation: ConversationRef, logger: Logger): MessageAnswers {
    const noted = new Set<string>();
    const note = (result: AiResult) => (result.cacheKey !== undefined && noted.add(result.cacheKey), result);
    const write = (): Promise<void> => {
      if (noted.size === 0) return Promise.resolve();
      const keys = [...noted];
      noted.clear();
      return this.store.listPush(key(conversation), keys, { maxLength: MAX_ANSWER_KEYS, ttlMs: this.ttlMs }).catch((error: unknown) => {
        // The answer stands; only a later erase would leave it in the cache (until its TTL).
        logger.warn({ err: error }, 'could not note the cached answer for an erase of the conversation');
      });
    };
    return {
      ai: ai.forgetCached ? noting(ai, note) : ai,
      // Issued in the same tick as `other`'s command: on Redis, auto-pipelined into one write.
      with: async (other) => (await Promise.all([other, write()]))[0],
      flush: write,
    };
  }
}

export interface MessageAnswers {
  /** The bot's AI, noting the cache key of each answer it gives. */
  ai: AiClient;
  /** `other` (a write just started), with the keys noted so far written alongside it. */
  with<T>(other: Promise<T>): Promise<T>;
  /** Write the keys still unwritten (a handler that neither remembered nor logged its answer). */
  flush(): Promise<void>;
}

/** `ai` with each result (a reply, a stream's, one from the cache) passed to `note`. */
function noting(ai: AiClient, note: (result: AiResult) => AiResult): AiClient {
  const { stream, fromCache, hasCached, forgetCached } = ai;
  return {
    get circuit() {
      return ai.circuit;
    },
    ...(ai.noticeOnly ? { noticeOnly: true } : {}),
    reply: async (request, options) => note(await ai.reply(request, options)),
    ...(hasCached ? { hasCached: hasCached.bind(ai) } : {}),
    ...(forgetCached ? { forgetCached: forgetCached.bind(ai) } : {}),
    ...(fromCache ? { fromCache: async (request) => ((found) => found && note(found))(await fromCache.call(ai, request)) } : {}),
    ...(stream
      ? {
          stream: (request, options) => {
            const streaming = stream.call(ai, request, options);
            const result = streaming.result.then(note);
            result.catch(() => undefined); // as unread as the stream's own: its reader sees the failure in the chunks
            return { ...streaming, result };
          },
        }
      : {}),
  };
}

function key(conversation: ConversationRef): string {
  return `parley:answer-keys:${conversation.platform}:${conversation.id}`;
}

/** parley's public API: createBot, the vocabulary adapters speak, and the pluggable parts. */
export { createBot, type Bot, type BotOptions } from './bot.js';
export type { BotMiddleware } from './http/node.js';
export type { CloseOptions } from './bot-close.js';
export { ParleyError, ErrorCode, ConfigError, HttpError, LeaseLostError, MaybePostedError, PermanentError, RetryAfterError, MissingDependencyError } from './errors.js';
export type { LostMessage } from './lost-messages.js';
export { requireOptional } from './optional-dependency.js';
export type { ConfigInput } from './config-input.js';
export { MemoryConversationLog, type ConversationLog, type ConversationEntry, type ConversationQuery, type ConversationSummary, type ExchangeFeedback, type RateResult } from './conversation-log.js';
export { RedisConversationLog, type RedisConversationLogOptions } from './conversation-log-redis.js';
export type { ConversationRef, InboundMessage, Reply, Delivery, Turn, Attachment } from './message.js';
export {
  type Adapter,
  type AdapterContext,
  type HttpRequest,
  type HttpResponse,
  type Received,
  type LimitRefusal,
  type Route,
  type Indicator,
  type SendOptions,
} from './adapter.js';
export { InvalidPayloadError, checkPayload, type InvalidPayloadStatus, type PayloadSchema, type PayloadIssue } from './payload.js';
export { answerWithAi, type MessageHandler, type MessageContext, type HandlerSettings, type Exchange } from './handler.js';
export { parseOptions, optionError } from './options.js';
export { loadConfig, parseEnv, collectEnv, schemas, variables, DEFAULT_CONVERSATION_LOG_TABLE, type Config, type Variable } from './config.js';
export { MemoryStore, RedisStore, type Store } from './store/index.js';
export { MemoryQueue, BullQueue, retryDelayMs, errorText, oldestFirst, replayEvery, type JobQueue, type DeadLetter, type Forgotten, type Job, type NewJob, type JobHandler, type ProcessOptions, type QueueCounts, type RetryOptions } from './queue/index.js';
export type { JobData } from './jobs.js';
export { isReplayable } from './job-check.js';
export { sqsUnwired } from './aws-wiring.js';
export type { Tally } from './ops/tally.js';
export { createMemoryLimiter, type Limiter } from './limit/index.js';
export { createAiClient, NoProviderAiClient, AiError, type AiErrorKind, type AiClient, type AiRequest, type AiResult } from './ai/index.js';
export { createLogger } from './observe/index.js';
export { json, jsonError, isLoopbackHost } from './http/index.js';
export type { NodeMiddleware, FetchHandler } from './http/index.js';

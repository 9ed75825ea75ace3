/**
 * The bot's public shape: the options createBot() takes and the Bot it returns (created in bot.ts).
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Adapter, HttpError, HttpRequest, HttpResponse } from './adapter.js';
import type { AiClient } from './ai/index.js';
import type { Config } from './config.js';
import type { ConfigInput } from './config-input.js';
import type { ConversationLog } from './conversation-log.js';
import type { Tally } from './ops/index.js';
import type { MessageHandler } from './handler.js';
import type { FetchHandler } from './http/index.js';
import type { BotMiddleware } from './http/node.js';
import type { CloseOptions } from './bot-close.js';
import type { LostMessage } from './lost-messages.js';
import type { IngestOutcome } from './ingest.js';
import type { JobData } from './jobs.js';
import type { Limiter } from './limit/index.js';
import type { InboundMessage } from './message.js';
import type { Metrics } from './observe/index.js';
import type { DeadLetter, JobQueue } from './queue/index.js';
import type { Store } from './store/index.js';

/** Every option also takes `undefined`, as left out (`queue: sqsQueueFromConfig(config)` under `exactOptionalPropertyTypes`). */
export interface BotOptions {
  /** Platform adapters (Slack, WhatsApp, Intercom, web). */
  adapters?: Adapter[] | undefined;
  /**
   * Typed configuration: any part of it (`{ ai: { model: 'gpt-4o' }, mode: 'direct' }`), merged
   * over what `env` says; or a whole Config from `loadConfig`.
   */
  config?: ConfigInput | Config | undefined;
  /** Environment to read the rest of the configuration from; default `process.env` (`{}`: defaults only). */
  env?: Record<string, string | undefined> | undefined;
  store?: Store | undefined;
  queue?: JobQueue<JobData> | undefined;
  ai?: AiClient | undefined;
  logger?: Logger | undefined;
  userLimiter?: Limiter | undefined;
  /** Where each exchange is written (DynamoDB's in parley/aws); default: the newest ones in memory. */
  conversationLog?: ConversationLog | undefined;
  /** Shared counters: AI spend per day and month (budgets), traffic per minute. Default: on Redis, else this process's (DynamoTally in parley/aws). */
  tally?: Tally | undefined;
  /** Replace the default "answer with the AI" behaviour. */
  onMessage?: MessageHandler | undefined;
  /** Run the worker in this process (default true). */
  worker?: boolean | undefined;
  /** Operational routes; set one to false to leave it to your app. */
  routes?: { health?: string | false | undefined; ready?: string | false | undefined; metrics?: string | false | undefined } | undefined;
}

export interface Bot {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly store: Store;
  readonly queue: JobQueue<JobData>;
  readonly ai: AiClient;
  readonly conversationLog: ConversationLog;
  readonly adapters: readonly Adapter[];
  /**
   * Resolves when every adapter has started (an adapter whose platform does not answer keeps
   * retrying in the background; serving does not wait for this). Rejects if closed before.
   */
  readonly ready: Promise<void>;
  /**
   * Open the connections and start the adapters and the worker; `listen()` and the first request
   * do it too. Resolves once the store and queue are reachable (or after a few seconds when not).
   */
  start(): Promise<void>;
  /** Dedupe → rate limit → enqueue one message ('ignored' when its `onlyIfStored` key is not in the store). */
  ingest(message: InboundMessage): Promise<IngestOutcome>;
  /** Replace how messages are answered. */
  onMessage(handler: MessageHandler): Bot;
  /** The framework-free HTTP handler under `middleware()` and `fetch` (`refused`: a request the HTTP layer could not read, answered as a refusal). */
  handle(request: HttpRequest, refused?: HttpError): Promise<HttpResponse>;
  /**
   * Node `(req, res, next)` middleware for Express, Connect, Fastify and plain `http`, the pair of
   * `fetch`: mount it as it is (`app.use(bot.middleware)`); `bot.middleware()` returns it too.
   */
  middleware: BotMiddleware;
  /** Web `Request → Response` handler for Hono, Next.js, Bun, Deno. */
  fetch: FetchHandler;
  /** Start the standalone server: resolves once listening; starting goes on in the background (see /readyz). */
  listen(port?: number, host?: string): Promise<Server>;
  deadLetters: {
    list(): Promise<DeadLetter<JobData>[]>;
    replay(id: string): Promise<boolean>;
    drop(id: string): Promise<boolean>;
    purge(): Promise<number>;
  };
  /**
   * Resolves once the messages this process is answering itself (a WhatsApp message the queue could
   * not take) are answered or given up: a serverless handler awaits it before it returns, since the
   * function is frozen once it has answered.
   */
  inProcessAnswers(): Promise<void>;
  /** Resolves once what follows answers unawaited (spend counted, traffic's minutes, alerts posted, a claim the store takes back late) is done: awaited as inProcessAnswers is. */
  afterAnswers(): Promise<void>;
  /**
   * Stop taking messages, finish running jobs within SHUTDOWN_TIMEOUT_MS, release everything.
   * `/readyz` answers 503 at once; first, for SHUTDOWN_DELAY_MS (`delayMs`), requests are still served.
   */
  close(options?: CloseOptions): Promise<{ unfinished: number }>;
  /** What exiting now would lose (in-memory queue's jobs, answers given here), by ids: to name on an exit that cannot wait for close(). */
  unanswered(): LostMessage[];
}

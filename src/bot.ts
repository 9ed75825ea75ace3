/**
 * createBot(): wires config, adapters, store, queue, limits and the AI into one bot, and exposes
 * it as Node middleware, a fetch handler, or a standalone server.
 */
import type { Server } from 'node:http';
import { pathOf, type HttpError, type HttpRequest } from './adapter.js';
import { createBotAi } from './bot-ai.js';
import { ConversationHistory } from './ai/history.js';
import { resolveConfig } from './config-input.js';
import type { ConversationLog } from './conversation-log.js';
import { createOps } from './ops/index.js';
import { refreshQueueDepth } from './queue-depth.js';
import { refreshBackendUp } from './backend-up.js';
import { createAccept } from './accept.js';
import { answerWithAi, type MessageHandler } from './handler.js';
import { ackBudgetMs, createFetchHandler, createNodeMiddleware, createRouter, isLoopbackHost, logRefusal } from './http/index.js';
import { asBotMiddleware } from './http/node.js';
import { listen } from './http/server.js';
import { closeOnce, closeWithin, delayClose, STOPPING } from './bot-close.js';
import { AnsweringHere, lostOnExit } from './lost-messages.js';
import { checkBotOptions, checkedAdapters, operationalPaths } from './bot-adapters.js';
import { closeOwing, ingest, takesInOneStep, type IngestDeps } from './ingest.js';
import { unlimited } from './limit/index.js';
import { adapterCounts, createLogger, createMetrics, serializeError } from './observe/index.js';
import { abandonJob, apologiseNeverStarted, noticesOn } from './apology.js';
import { createBackends } from './backends.js';
import { unusedAwsSettings } from './aws-wiring.js';
import { invalidJob, jobPlatform } from './job-check.js';
import { processJob, type WorkerDeps } from './worker.js';
import { startAdapters, type AdapterStarts } from './adapter-start.js';
import { cachedAnswersFor, forgetting } from './forget.js';
import { readiness, trackStart, warnVolatileBudgets, warnVolatileState } from './bot-start.js';
import { feedbackRecorder } from './feedback.js';
import type { Bot, BotOptions } from './bot-api.js';

export type { Bot, BotOptions };

/** Create a bot; every part defaults from configuration to its in-memory implementation. */
export function createBot(options: BotOptions = {}): Bot {
  const adapters = checkedAdapters(checkBotOptions(options).adapters, options.routes);
  const config = resolveConfig(options.config, options.env ?? process.env);
  // Your own logger gets parley's error serializer too: a Redis error's command arguments hold secrets and message text.
  const logger = options.logger ? options.logger.child({}, { serializers: { err: serializeError } }) : createLogger(config.logLevel, config.logFormat);
  const metrics = createMetrics({ defaultMetrics: true });
  const backends = createBackends(config, logger, { queueOnRedis: options.queue === undefined });
  const store = options.store ?? backends.store();
  const workerStore = options.store ?? backends.workerStore();
  // A store built before the bot (dynamoDbFromConfig) speaks through the bot's logger, in its format.
  options.store?.useLogger?.(logger);
  const queue = options.queue ?? backends.queue();
  for (const unused of unusedAwsSettings(config, { queue: options.queue !== undefined, store: options.store !== undefined })) logger.warn(unused);
  const conversationLog: ConversationLog = options.conversationLog ?? backends.conversationLog();
  const tally = options.tally ?? backends.tally;
  const ops = createOps({ config, tally, store: workerStore, readStore: store, queue, conversationLog: options.conversationLog ?? backends.consoleConversationLog(), metrics, logger, circuit: () => ai.circuit });
  const ai = createBotAi(config, backends, metrics, logger, ops, options.ai);
  const userLimiter = options.userLimiter ?? backends.limiter('user', config.limits.userPerMinute) ?? unlimited;
  let handler: MessageHandler = options.onMessage ?? answerWithAi;
  const byPlatform = new Map(adapters.map((adapter) => [adapter.platform, adapter]));
  let starts: AdapterStarts | undefined;
  const workerDeps: WorkerDeps = {
    settings: config.replies,
    lockTtlMs: config.queueLockMs,
    maxWaitMs: config.ai.maxWaitMs,
    conversationLog,
    store: workerStore,
    ai,
    history: new ConversationHistory(workerStore, config.history),
    cachedAnswers: cachedAnswersFor(workerStore, backends.cache, config.ai.cacheTtlSeconds),
    metrics,
    logger,
    adapterFor: (p) => byPlatform.get(p),
    adapterReady: (p) => starts?.isReady(p) ?? false,
    handler: () => handler,
    ...noticesOn(queue, config.ai.deadlineMs),
  };
  const ingestDeps: IngestDeps = {
    store,
    queue,
    userLimiter,
    conversationLimiter: backends.limiter('conversation', config.limits.conversationPerMinute),
    tenantLimiter: backends.limiter('tenant', config.limits.tenantPerMinute),
    metrics,
    logger,
    // Only the bot's own Redis store and queue share a server the queue's one step can read.
    ...(options.store === undefined && options.queue === undefined && backends.keyOnQueueServer ? { keyOnQueueServer: backends.keyOnQueueServer } : {}),
  };
  let queueDepth: NodeJS.Timeout | undefined;
  let backendUp: NodeJS.Timeout | undefined;
  let running = 0; // the worker's jobs; the answers given here are counted by answeringHere, once per message
  /** Where the standalone server listens: the adapters are told whether only this machine can reach them. */
  let boundHost = config.host;
  /** Aborted as close() begins: the adapters' open streams end (AdapterContext.closing). */
  const closing = new AbortController();
  let stopping = false; // from close(): /readyz says so, the delay's whole point
  /**
   * Open the connections, start the adapters (in the background, retried while their platform is
   * down: nothing waits for them) and the worker. Runs once, on start(), listen() or the first
   * request: creating a bot does no I/O.
   */
  const tracker = trackStart(async () => {
    const connecting = backends.connect();
    warnVolatileState(adapters, store, logger);
    warnVolatileBudgets(config.budget, tally, logger);
    starts = startAdapters(
      adapters,
      (adapter) => ({
        store,
        markerStore: workerStore,
        logger: logger.child({ platform: adapter.platform }),
        loopbackOnly: isLoopbackHost(config.host) && isLoopbackHost(boundHost),
        limiter: (name, points, seconds) => backends.limiter(`${adapter.platform}-${name}`, points, seconds),
        config,
        ...forgetting(workerDeps, queue),
        feedback: feedbackRecorder(conversationLog, metrics, logger.child({ platform: adapter.platform })),
        deliver: async (messages, delivery) => void (await accept(adapter, { response: { status: 200 }, messages, lastDelivery: delivery?.lastDelivery })),
        refused: (error) => logRefusal({ logger, metrics }, adapter.platform, error),
        ...adapterCounts(metrics, adapter.platform),
        closing: closing.signal,
      }),
      logger,
    );
    if (options.worker !== false) queue.process((job) => (running++, processJob(workerDeps, job).finally(() => running--)), { concurrency: config.queue.concurrency, store: workerStore, logger, onAbandoned: (job, reason) => abandonJob(workerDeps, job, reason), onDeadLettered: (data, reason) => metrics.deadLettered.inc({ platform: jobPlatform(data), reason }), invalid: invalidJob });
    queueDepth = refreshQueueDepth(queue, metrics);
    backendUp = refreshBackendUp(store, queue, metrics, logger);
    ops.start();
    await connecting;
  }, logger);
  const start = tracker.start;
  const answeringHere = new AnsweringHere();
  const apologised = new Set<string>(); // jobs close()'s apology pass posted to: unanswered() marks them, as close()'s line does
  const accept = createAccept({ config, logger, workerDeps, ingestDeps, retry: backends.retry, track: (work, message) => answeringHere.track(work, message), answeringHere: () => answeringHere.size, draining: () => closing.signal.aborted });
  const paths = operationalPaths(options.routes);
  const router = createRouter({
    adapters: () => adapters,
    logger,
    metrics,
    accept,
    // Queue mode's one step only: a claim taken before its enqueue must be given back before the 503.
    ackBudgetMs: config.mode === 'queue' && takesInOneStep(ingestDeps) ? ackBudgetMs : undefined,
    paths,
    readiness: readiness(store, queue, tracker, () => (stopping ? STOPPING : undefined)),
    adapterStates: () => starts?.states() ?? Object.fromEntries(adapters.map((a) => [a.platform, 'starting' as const])),
    routes: () => ops.routes,
  });
  const httpOptions = { bodyLimitBytes: config.bodyLimitBytes, requestTimeoutMs: config.requestTimeoutMs, publicUrl: config.publicUrl, trustProxy: config.trustProxy, logger };
  const operational = new Set(Object.values(paths));
  const handle = async (request: HttpRequest, refused?: HttpError) => {
    const starting = start();
    // Webhooks wait (at most seconds) for Redis to connect at start, rather than being refused; health never waits.
    if (!operational.has(pathOf(request))) await starting;
    return router.handle(request, refused);
  };
  const routerWithReady = { ...router, handle };
  const servers: Server[] = [];
  const nodeMiddleware = createNodeMiddleware(routerWithReady, httpOptions);

  const bot: Bot = {
    config,
    logger,
    metrics,
    store,
    queue,
    ai,
    conversationLog,
    adapters,
    get ready() {
      const ready = start().then(() => starts!.allReady);
      ready.catch(() => undefined); // closed before every adapter started: nothing to report unless awaited
      return ready;
    },
    start,
    async ingest(message) {
      await start();
      return ingest(ingestDeps, message);
    },
    onMessage(next) {
      handler = next;
      return bot;
    },
    handle,
    middleware: asBotMiddleware(nodeMiddleware),
    fetch: createFetchHandler(routerWithReady, httpOptions),
    async listen(port = config.port, host = config.host) {
      if (tracker.state() === 'not started') boundHost = host;
      else if (isLoopbackHost(boundHost) && !isLoopbackHost(host)) logger.error({ host }, 'bot.listen on every address after the bot started for loopback only: an adapter that trusts this machine (the web chat) still does. Set HOST (or config.host) instead.');
      // Listen first: /healthz answers while starting waits for Redis; /readyz says 503 until started.
      const server = await listen(nodeMiddleware, port, host, logger, config.requestTimeoutMs);
      servers.push(server);
      start().catch(() => undefined); // logged, and shown in /readyz
      return server;
    },
    deadLetters: {
      list: () => queue.deadLetters(),
      replay: (id) => queue.replay(id),
      drop: (id) => (queue.dropDeadLetter ? queue.dropDeadLetter(id) : Promise.reject(new Error('this queue cannot drop one dead letter (it has no dropDeadLetter); purge drops them all'))),
      purge: () => queue.purge(),
    },
    inProcessAnswers: () => answeringHere.settled(),
    // with a claim the store goes on taking back in the background (DynamoStore, its ack deadline passed)
    afterAnswers: async () => void (await Promise.all([ops.settled(), store.settled?.(), workerStore.settled?.()])),
    close: closeOnce(async (delayMs, endDelay) => {
      stopping = true;
      await delayClose(delayMs, endDelay, logger);
      clearInterval(queueDepth);
      clearInterval(backendUp);
      starts?.stop();
      ops.endStreams();
      closing.abort();
      const release = async () => {
        await ops.stop();
        await closeOwing(store);
        await conversationLog.close?.().catch((e: unknown) => logger.warn({ err: e }, 'conversation log close failed'));
        await options.tally?.close?.().catch((e: unknown) => logger.warn({ err: e }, 'tally close failed'));
      };
      const here = { answeringHere: bot.inProcessAnswers, answeringHereLeft: () => answeringHere.size, lost: bot.unanswered, apologise: (timeUp: AbortSignal) => apologiseNeverStarted(workerDeps, queue, config.queue.concurrency, (job) => void apologised.add(job), timeUp) };
      return closeWithin({ servers, adapters, queue, running: () => running + answeringHere.size, ...here, release, drop: backends.close, logger }, config.shutdownTimeoutMs);
    }, config.shutdownDelayMs),
    unanswered: () => lostOnExit(queue, answeringHere, apologised),
  };
  return bot;
}

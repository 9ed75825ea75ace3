/**
 * Slack on @slack/bolt. parley's HTTP layer verifies each request and hands it to a Bolt `App`
 * through a receiver of ours, so the developer's own listeners (slash commands, shortcuts,
 * actions) keep working; a global middleware picks out the messages parley answers.
 */
import { App, Assistant, LogLevel, type Receiver, type ReceiverEvent } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { HttpError, json, type Adapter, type AdapterContext, type HttpRequest, type HttpResponse, type InboundMessage, type Store } from '../../src/index.js';
import type { SlackConfig } from './config.js';
import { inboundFromEvent, type EventCallback } from './events.js';
import { parseSlackBody } from './parse.js';
import { SlackSender, slackKeys } from './send.js';
import { verifySlackSignature } from './verify.js';

export interface SlackAdapterOptions extends SlackConfig {
  /** Your own Bolt App (created with `receiver: new ParleyReceiver()`), or one parley creates. */
  app?: App;
}

/** A Bolt receiver that does no I/O: parley's HTTP layer feeds the App. */
export class ParleyReceiver implements Receiver {
  app?: App;
  init(app: App): void {
    this.app = app;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

/** Handed to the collecting middleware through Bolt's customProperties. */
interface Collector {
  found(message: InboundMessage | undefined): void;
}

/** Bolt answers an unacknowledged interaction after this long; so do we. */
const ACK_TIMEOUT_MS = 3001;

/** Create the Slack adapter. */
export function slackAdapter(options: SlackAdapterOptions): Adapter & { app: App } {
  const socketMode = Boolean(options.appToken);
  const app =
    options.app ??
    new App({
      token: options.botToken,
      ...(socketMode ? { socketMode: true, appToken: options.appToken } : { receiver: new ParleyReceiver() }),
      deferInitialization: true,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: options.apiUrl },
    });
  // Our own client for replies: no hidden retries, 429s surface to us (see SlackSender.call).
  const client = new WebClient(options.botToken, { slackApiUrl: options.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
  let context: AdapterContext | undefined;
  const store = (): Store => started().store;
  const logger = (): Logger => started().logger;
  const started = () => {
    if (!context) throw new Error('the Slack adapter has not been started');
    return context;
  };
  const sender = new SlackSender(client, store, logger);

  app.use(async ({ body, context: boltContext, next }) => {
    const collector = boltContext.parleyCollector as Collector | undefined;
    let message: InboundMessage | undefined;
    try {
      if ((body as { type?: string }).type === 'event_callback') {
        message = await inboundFromEvent(body as unknown as EventCallback, {
          botUserId: boltContext.botUserId,
          threadFollowUps: options.threadFollowUps,
          answeredIn: async (team, channel, thread) => (await store().get(slackKeys.answeredThread(team, channel, thread))) !== undefined,
        });
      }
    } finally {
      if (collector) collector.found(message);
      else if (message) await started().deliver([message]); // Socket Mode: no HTTP request to answer
    }
    await next();
  });
  app.assistant(
    new Assistant({
      threadStarted: async ({ setSuggestedPrompts }) => {
        if (options.suggestedPrompts.length === 0) return;
        await setSuggestedPrompts({ title: 'Try asking', prompts: options.suggestedPrompts.map((p) => ({ title: p, message: p })) });
      },
      // parley answers through its pipeline; here the thread only gets its title.
      userMessage: async ({ message, setTitle }) => {
        const text = 'text' in message && typeof message.text === 'string' ? message.text : '';
        if (text) await setTitle(text.length > 60 ? `${text.slice(0, 59)}…` : text);
      },
    }),
  );

  async function receive(request: HttpRequest) {
    verifySlackSignature(request, options.signingSecrets);
    const body = parseSlackBody(request);
    if (body.type === 'url_verification') {
      return { response: json(200, { challenge: body.challenge }), messages: [] };
    }
    if (body.ssl_check) return { response: { status: 200 }, messages: [] };
    const retryNum = request.headers['x-slack-retry-num'];
    let found!: (message: InboundMessage | undefined) => void;
    const collected = new Promise<InboundMessage | undefined>((resolve) => (found = resolve));
    let acked!: (response: HttpResponse) => void;
    const ack = new Promise<HttpResponse>((resolve) => (acked = resolve));
    const event: ReceiverEvent = {
      body,
      retryNum: retryNum ? Number(retryNum) : undefined,
      retryReason: request.headers['x-slack-retry-reason'],
      customProperties: { parleyCollector: { found } satisfies Collector },
      ack: async (response?: unknown) => acked(ackResponse(response)),
    };
    const processing = app.processEvent(event).then(
      () => undefined,
      (error: unknown) => {
        logger().error({ err: error }, 'a Bolt listener failed');
        return error;
      },
    );
    if (body.type === 'event_callback') {
      // Bolt acknowledges events itself; answer once our middleware has looked (or Bolt dropped it).
      const message = await Promise.race([collected, processing.then(() => undefined)]);
      return { response: { status: 200 }, messages: message ? [message] : [] };
    }
    // Commands, shortcuts, actions: the developer's listener acknowledges, as in Bolt.
    const outcome = await Promise.race([
      ack.then((response) => ({ kind: 'acked' as const, response })),
      processing.then((error) => ({ kind: 'finished' as const, error })),
      delay(ACK_TIMEOUT_MS).then(() => ({ kind: 'timeout' as const })),
    ]);
    if (outcome.kind === 'acked') return { response: outcome.response, messages: [] };
    if (outcome.kind === 'finished' && outcome.error) throw new HttpError(500, 'listener_failed', 'A Bolt listener failed before acknowledging.');
    logger().warn({ type: body.type, command: body.command }, 'no Bolt listener acknowledged this request');
    throw new HttpError(404, 'unhandled', 'No listener acknowledged this Slack request.');
  }

  return {
    platform: 'slack',
    path: options.path,
    contentTypes: ['application/json', 'application/x-www-form-urlencoded'],
    redelivers: true,
    app,
    async start(ctx) {
      context = ctx;
      // One auth.test: the bot's user id for every event after. An App created without
      // deferInitialization has done this itself (lazily, once).
      if ((app as unknown as { initialized?: boolean }).initialized === false) await app.init();
      if (socketMode) await app.start();
    },
    async stop() {
      if (socketMode) await app.stop();
    },
    receive,
    send: (conversation, reply, sendOptions) => sender.send(conversation, reply, sendOptions?.key),
    ...(options.streaming ? { stream: (conversation, chunks, sendOptions) => sender.stream(conversation, chunks, sendOptions?.key) } : {}),
    indicate: (conversation, state) => sender.status(conversation, state === 'thinking'),
  } satisfies Adapter & { app: App };
}

function ackResponse(response: unknown): HttpResponse {
  if (response === undefined || response === '') return { status: 200 };
  if (typeof response === 'string') return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: response };
  return json(200, response);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

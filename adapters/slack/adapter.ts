/**
 * Slack on @slack/bolt. parley's HTTP layer verifies each request. The events parley answers are
 * classified and acknowledged without Bolt's listener chain, and handed to the Bolt `App` after the
 * ack when a listener there wants them (fast-path.ts); everything else reaches the App through a
 * receiver of ours before the ack, so the developer's own listeners (slash commands, shortcuts,
 * actions, events) keep working.
 */
import type { App, Receiver } from '@slack/bolt';
import type { Logger } from 'pino';
import { HttpError, frozenOnceAnswered, json, rememberSecrets, type Adapter, type AdapterContext, type HttpRequest, type Received, type Store } from 'parley/adapter-kit';
import { slackConfigFromOptions, type SlackOptions } from './config.js';
import { ackResponse, dispatchToBolt } from './dispatch.js';
import type { SlackDetails } from './events.js';
import { createFastPath, type RetryMeta } from './fast-path.js';
import { slackSdkLogger } from './sdk-logger.js';
import { DeveloperListeners } from './listeners.js';
import { parseSlackBody } from './parse.js';
import { requireSlackPackages, slackBolt, slackWebApi } from './sdk.js';
import { markdownToMrkdwn } from './mrkdwn.js';
import { MAX_INLINE_WAIT_MS, MAX_MESSAGE_CHARS, SlackSender } from './send.js';
import { createSocketMode } from './socket.js';
import { botUserIdOf, receiveWhileStarting } from './starting.js';
import { verifySlackSignature } from './verify.js';
import { isSslCheck } from './ssl-check.js';
import { ParleyInstallationStore } from './installation-store.js';
import { StoreSides } from './store-sides.js';
import { WorkspaceTokens, type WorkspaceInstallations } from './workspace-tokens.js';
import { lookupOfInstallation } from './workspace-lookup.js';
import { lastDeliveryOf, namedIfLost } from './last-delivery.js';
import { slackInstallRoutes } from './install.js';
import { registerOwnListeners } from './own-listeners.js';
import { assistantThreads } from './assistant.js';
import { keepCurrentBoltClient } from './bolt-clients.js';
import { webClientOptions } from './web-api-options.js';

export { webClientOptions };


/** Only botToken (or oauth) and signingSecret (or appToken) are needed; the rest has the SLACK_ variables' defaults. */
export interface SlackAdapterOptions extends SlackOptions {
  /** Your own Bolt App (created with `receiver: new ParleyReceiver()`), or one parley creates. */
  app?: App | undefined;
  /**
   * Many workspaces: answer each event with its own installation's bot token (Bolt's `authorize`
   * over these installations, see workspace-tokens.ts) instead of SLACK_BOT_TOKEN. With `oauth`, by
   * default: the bot's store, encrypted with SLACK_INSTALLATION_KEY (ParleyInstallationStore).
   */
  installations?: WorkspaceInstallations | undefined;
  /**
   * Answer a request only once Bolt's listeners (and parley's work after the ack) have finished,
   * as Bolt's processBeforeResponse: for a serverless function, frozen once it has answered. By
   * default on AWS Lambda (AWS_LAMBDA_FUNCTION_NAME is set).
   */
  processBeforeResponse?: boolean | undefined;
}

/** How long a command or an interaction that arrives while the adapter starts waits for the start. */
const START_WAIT_MS = 2500;

/** A Bolt receiver that does no I/O: parley's HTTP layer (or its Socket Mode client) feeds the App. */
export class ParleyReceiver implements Receiver {
  app?: App;
  init(app: App): void {
    this.app = app;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

/** Create the Slack adapter. */
export function slackAdapter(input: SlackAdapterOptions): Adapter<SlackDetails> & { app: App } {
  // A missing SDK first: installing it is the first thing to fix.
  requireSlackPackages();
  const options = slackConfigFromOptions(input);
  // Given in code, not read from the environment: a Slack error quoting one is logged with <hidden>.
  rememberSecrets(options.botToken, options.appToken, ...options.signingSecrets, options.oauth?.clientSecret, options.oauth?.stateSecret);
  let context: AdapterContext | undefined;
  // The SDKs' own lines go to parley's log once the adapter has started (`context` is set then).
  const sdkLogger = slackSdkLogger(() => context?.logger);
  // Many workspaces (OAuth): installations in parley's store, encrypted (SLACK_INSTALLATION_KEY).
  const inBotStore = !options.installations && options.oauth !== undefined;
  const sides = new StoreSides(() => store(), () => markerStore());
  const installations = options.installations ?? (options.oauth ? new ParleyInstallationStore({ store: sides.store, keys: options.oauth.installationKeys, logger: () => context?.logger }) : undefined);
  // Our own client for replies: no hidden retries, 429s surface to us (see send.ts).
  const client = new (slackWebApi().WebClient)(options.botToken, webClientOptions(options.apiUrl, sdkLogger));
  const workspaces = installations
    ? new WorkspaceTokens({ installations, client, clientId: options.oauth?.clientId, clientSecret: options.oauth?.clientSecret, store: sides.store, logger: () => logger(), lostAtRestart: () => inBotStore && context?.store.volatile === true })
    : undefined;
  /** One workspace and parley's own App: the bot's ids from start's auth.test, which an App built later is given. */
  let identity: { botUserId?: string; botId?: string } | undefined;
  let bolt: { app: App; listeners: DeveloperListeners } | undefined;
  /**
   * The Bolt App, built when first needed: the developer's `app` (given, or read from the adapter),
   * Socket Mode, a request the fast path does not take, or an event a listener wants after the ack.
   * Until then Bolt is not even loaded: events parley answers need none of it.
   */
  const boltApp = (): { app: App; listeners: DeveloperListeners } => (bolt ??= buildBolt());
  function buildBolt(): { app: App; listeners: DeveloperListeners } {
    const sdk = slackBolt();
    const app: App =
      options.app ??
      new sdk.App({
        // Many workspaces: each event brings its installation's token (Bolt's client for the
        // workspace's older, rotated tokens dropped: bolt-clients.ts). One workspace: the ids start
        // learned (so no second auth.test), or, before start, an App that start initialises.
        ...(installations
          ? { authorize: async (source) => keepCurrentBoltClient(app, await workspaces!.authorize(source)) }
          : identity
            ? { token: options.botToken, botUserId: identity.botUserId, botId: identity.botId, tokenVerificationEnabled: false }
            : { token: options.botToken, deferInitialization: true }),
        receiver: new ParleyReceiver(),
        // Also the WebClient's logger (Bolt shares it), and the `logger` its listeners get.
        logger: sdkLogger,
        // Bolt's default client retries for about 30 minutes: init() would hang that long with Slack down.
        clientOptions: webClientOptions(options.apiUrl, sdkLogger),
        // parley keeps its own conversation history; Bolt's per-event conversation store would only cost time on the ack path.
        convoStore: false,
      });
    // parley's own App: a listener's error reaches parley, which logs it once (Bolt's default handler logs it too).
    if (!options.app) app.error(async (error) => Promise.reject(error));
    // Before parley registers its own listeners: which events the developer's could see.
    const listeners = DeveloperListeners.track(app, sdk);
    listeners.own(() =>
      registerOwnListeners(app, {
        feedback: (feedback) => started().feedback(feedback),
        logger: () => logger(),
      }),
    );
    return { app, listeners };
  }
  const store = (): Store => started().store;
  const markerStore = (): Store => started().markerStore;
  const logger = (): Logger => started().logger;
  const started = () => {
    if (!context) throw new Error('the Slack adapter has not been started');
    return context;
  };
  // How an event becomes a message, on every path (fast, while starting, Socket Mode). A thread
  // follow-up carries its condition (onlyIfStored): the core checks it in the ack's one step.
  const classify = { threadFollowUps: options.threadFollowUps };
  // What the sender records (threads answered) goes to the patient store.
  const sender = new SlackSender(client, markerStore, logger, workspaces && ((details) => sides.onWorker(() => workspaces.tokenFor(details))), workspaces && ((details, refused) => sides.onWorker(() => workspaces.renew(details, refused))));
  // The bot user: many workspaces, the event's installation; one workspace, auth.test at start. An
  // App of the developer's may authorize its own way: the event's own `authorizations` come first.
  let botUserId: string | undefined;
  const fastPath = createFastPath({
    app: () => boltApp().app,
    // No App built yet: no listener of the developer's to hand an event to.
    couldSee: (type) => bolt?.listeners.couldSee(type) ?? false,
    classify,
    botUserIdFor: (body) =>
      workspaces ? workspaces.botUserIdOf(body).then((id) => id ?? botUserIdOf(body)) : options.app ? (botUserIdOf(body) ?? botUserId) : (botUserId ?? botUserIdOf(body)),
    stored: async (key) => (await store().get(key)) !== undefined,
    assistant: assistantThreads({ client, suggestedPrompts: options.suggestedPrompts, store: () => markerStore(), tokenFor: workspaces && ((details) => workspaces.tokenFor(details)), logger }),
    logger: () => logger(),
  });
  const socket = options.appToken
    ? createSocketMode({
        appToken: options.appToken,
        clientOptions: webClientOptions(options.apiUrl, sdkLogger),
        app: boltApp().app,
        fastPath,
        logger,
        deliver: (messages, delivery) => started().deliver(messages, delivery),
        refused: (error) => started().refused(error),
        admit: workspaces && ((body) => workspaces.admit(body)),
      })
    : undefined;
  // A developer's App is tracked from the start (its listeners may already be there).
  if (options.app) boltApp();
  // Events are taken only once the bot user is known (before: starting.ts). An App the developer
  // created without deferInitialization knows it from the start.
  let ready = options.app !== undefined && !awaitsInit(options.app);
  let isReady!: () => void;
  const whenReady = new Promise<void>((resolve) => (isReady = resolve));
  const processBeforeResponse = options.processBeforeResponse ?? frozenOnceAnswered();

  async function receive(request: HttpRequest): Promise<Received> {
    // Slack's SSL check comes unsigned: a 200, and nothing in it is read (ssl-check.ts).
    if (isSslCheck(request)) return { response: { status: 200, outcome: 'control' }, messages: [] };
    verifySlackSignature(request, options.signingSecrets);
    const body = parseSlackBody(request, workspaces !== undefined);
    if (body.type === 'url_verification') return { response: { ...json(200, { challenge: body.challenge }), outcome: 'control' }, messages: [] };
    if (body.ssl_check) return { response: { status: 200, outcome: 'control' }, messages: [] };
    if (body.type === 'app_rate_limited') {
      logger().warn({ minute: body.minute_rate_limited }, 'Slack is dropping event deliveries for this app for a minute (app_rate_limited)');
      return { response: { status: 200, outcome: 'control' }, messages: [] };
    }
    const retryNum = request.headers['x-slack-retry-num'];
    const meta: RetryMeta = { retryNum: retryNum ? Number(retryNum) : undefined, retryReason: request.headers['x-slack-retry-reason'] };
    // On Slack's last retry, a failure to take the message names it (it is lost): here or in the core.
    const lastDelivery = lastDeliveryOf(meta.retryNum, body);
    if (workspaces && !(await namedIfLost(lastDelivery, logger, () => workspaces.admit(body)))) return { response: { status: 200, outcome: 'ignored' }, messages: [] };
    // A command or an interaction needs Bolt: wait a little for a start under way (on Lambda the
    // start only progresses while a request runs, so a fresh function would refuse its first clicks).
    if (!ready && body.type !== 'event_callback') await Promise.race([whenReady, delay(START_WAIT_MS)]);
    if (!ready) return { ...(await receiveWhileStarting(body, classify)), lastDelivery };
    const fast = await namedIfLost(lastDelivery, logger, () => fastPath.take(body, meta));
    if (fast) {
      const messages = fast.message ? [fast.message] : [];
      // On Lambda the work after the ack runs before the answer, but after the messages are queued.
      // `outcome` is in the answer from the start: the core sets a taken message's without reshaping it.
      return { response: { status: 200, outcome: fast.message ? undefined : 'ignored' }, messages, afterAck: fast.afterAck, afterAckBeforeResponse: processBeforeResponse, lastDelivery };
    }
    const result = await dispatchToBolt(boltApp().app, body, meta, logger(), processBeforeResponse);
    switch (result.kind) {
      case 'event':
        return { response: { status: 200, outcome: 'bolt' }, messages: [] };
      case 'acked':
        return { response: { ...ackResponse(result.response), outcome: 'bolt' }, messages: [] };
      case 'failed':
        // Slack never redelivers a command or an interaction, so a 5xx would buy nothing; the error is logged in dispatch.
        throw new HttpError(400, 'listener_failed', 'A Bolt listener failed before acknowledging this Slack request.');
      case 'unacknowledged':
        logger().warn({ type: body.type, command: body.command }, 'no Bolt listener acknowledged this request');
        throw new HttpError(404, 'unhandled', 'No listener acknowledged this Slack request.');
    }
  }

  return {
    platform: 'slack',
    path: options.path,
    contentTypes: ['application/json', 'application/x-www-form-urlencoded'],
    redelivers: true,
    // Installations in the bot's store: one in memory loses them at every restart (the bot warns).
    ...(inBotStore ? { lastingState: 'Slack installations (OAuth)' } : {}),
    // Slack sends an event again when it has no answer within 3 s.
    ackWithinMs: 3000,
    get app() {
      return boltApp().app;
    },
    /** Retried by the bot with backoff until it succeeds; webhooks are taken meanwhile (starting.ts). */
    async start(ctx) {
      context = ctx;
      if (!workspaces && !bolt) {
        // No App yet: one auth.test of our own; an App built later is given the bot's ids.
        const result = await client.auth.test();
        identity = { botUserId: result.user_id, botId: result.bot_id };
        botUserId = result.user_id;
      }
      // An App built before (Socket Mode, the developer's, or `adapter.app` read meanwhile) that
      // waits for init(): Bolt's one auth.test, the bot's ids kept by Bolt. Many workspaces: no I/O.
      const app = bolt?.app;
      if (app && awaitsInit(app)) await app.init();
      if (!workspaces && app && !identity && (!options.app || authorizesWithToken(app))) botUserId = await authTestUserId(app);
      ready = true;
      isReady();
      await socket?.start();
    },
    stop: async () => void (await socket?.stop()),
    lost: () => socket?.lost(),
    abandon: () => sender.stopOpenStreams(),
    receive,
    // Many workspaces: /slack/install and /slack/oauth_redirect (install.ts). A reinstall's new token is used at once here, not once the cached installation has expired.
    ...(options.oauth && installations
      ? { routes: slackInstallRoutes({ oauth: options.oauth, installations, client, logger, installed: (installation) => workspaces?.forget(lookupOfInstallation(installation)) }) }
      : {}),
    maxChars: MAX_MESSAGE_CHARS,
    // Limits are per workspace and channel: a 429 longer than a burst's 1-2 s waits in the queue, not in a slot others need.
    maxInlineWaitMs: MAX_INLINE_WAIT_MS,
    format: markdownToMrkdwn,
    sendPart: (conversation, text, part) => sender.sendPart(conversation, text, part),
    findPart: (conversation, part, since) => sender.findPart(conversation, part, since),
    ...(options.streaming ? { stream: (conversation, chunks, sendOptions) => sender.stream(conversation, chunks, sendOptions?.key, sendOptions?.platformFailed) } : {}),
    // Many workspaces: an uninstalled one, or a token Slack refused for good, fails before the AI is asked.
    ...(workspaces ? { canReply: ({ details }) => sides.onWorker(async () => (await workspaces.stillInstalled(details!), await sender.refused.check(await workspaces.tokenFor(details!), (refused) => workspaces.renew(details!, refused)))) } : {}),
    indicate: (conversation, state) => sender.status(conversation, state === 'thinking'),
    // Slack removes an assistant thread's status when the app replies in it.
    replyClearsIndicator: true,
  } satisfies Adapter<SlackDetails> & { app: App };
}

/** An App created with deferInitialization that has not run init() yet. */
function awaitsInit(app: App): boolean {
  return (app as unknown as { initialized?: boolean }).initialized === false;
}

/** A developer's App created with a token and deferInitialization: its `authorize` is Bolt's own for that token. */
function authorizesWithToken(app: App): boolean {
  const args = app as unknown as { argToken?: unknown; argAuthorize?: unknown };
  return typeof args.argToken === 'string' && args.argAuthorize === undefined;
}

/** The bot user id Bolt's `authorize` gives for a token after init(): its cached auth.test (no I/O); undefined if not there. */
async function authTestUserId(app: App): Promise<string | undefined> {
  const authorize = (app as unknown as { authorize?: unknown }).authorize;
  if (typeof authorize !== 'function') return undefined;
  try {
    const result = (await authorize.call(app, { isEnterpriseInstall: false }, {})) as { botUserId?: unknown } | undefined;
    return typeof result?.botUserId === 'string' && result.botUserId !== '' ? result.botUserId : undefined;
  } catch {
    return undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

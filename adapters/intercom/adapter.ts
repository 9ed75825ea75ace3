/**
 * Intercom on intercom-client: customers' messages are answered by the bot as a teammate, and the
 * bot steps aside once a person is asked for or a teammate replies. Webhooks are verified and
 * parsed without calling Intercom, so they are answered in milliseconds (Intercom favours < 500 ms).
 */
import type { IntercomClient, IntercomEnvironment } from 'intercom-client';
import type { Logger } from 'pino';
import type { Adapter, AdapterContext, HttpRequest, Received, Store } from 'parley/adapter-kit';
import { frozenOnceAnswered, rememberSecrets, splitCredentials } from 'parley/adapter-kit';
import { intercomConfigFromOptions, type IntercomOptions, type IntercomRegion } from './config.js';
import { handoffMatcher } from './handoff-patterns.js';
import { messagesFromNotification, type IntercomDetails } from './inbound.js';
import { parseNotification } from './notification.js';
import { intercomSdk } from './sdk.js';
import { IntercomSender, MAX_PART_CHARS } from './send.js';
import { ConversationState } from './state.js';
import { fetchNotingUnanswered } from './unanswered.js';
import { verifyIntercomSignature } from './verify.js';

/** accessToken and clientSecrets are needed; the rest has the INTERCOM_ variables' defaults. */
export type IntercomAdapterOptions = IntercomOptions & {
  /**
   * Your own client (its retries are yours then); by default parley makes one with retries off.
   * Yours cannot tell a reply cut off after it was sent from one never sent: only a timeout is looked for.
   */
  client?: IntercomClient;
  /** How long one API call of parley's client may take, in milliseconds (default 15 s). */
  timeoutMs?: number;
};

/** Each region's entry in the SDK's IntercomEnvironment (read once the SDK is loaded). */
const REGIONS = {
  us: 'UsProduction',
  eu: 'EuProduction',
  au: 'AuProduction',
} as const satisfies Record<IntercomRegion, keyof typeof IntercomEnvironment>;

/** How long one API call may take before it counts as failed (and is retried by the queue). */
const API_TIMEOUT_MS = 15_000;

/** Create the Intercom adapter. */
export function intercomAdapter(input: IntercomAdapterOptions): Adapter<IntercomDetails> & { client: IntercomClient } {
  // A missing SDK first: installing it is the first thing to fix.
  const intercom = intercomSdk();
  const options = intercomConfigFromOptions(input);
  const frozen = frozenOnceAnswered();
  // Given in code rather than read from the environment: remembered, so an error quoting one is
  // logged with <hidden> in its place.
  rememberSecrets(options.accessToken, ...options.clientSecrets);
  const client =
    options.client ??
    new intercom.IntercomClient({
      token: options.accessToken,
      // Without a user and password: fetch refuses such a URL, quoting it whole in an error that is
      // logged; the access token is the Authorization, as for the other platforms' URLs.
      ...(options.apiUrl ? { baseUrl: splitCredentials(options.apiUrl).url } : { environment: intercom.IntercomEnvironment[REGIONS[options.region]] }),
      // The queue retries with backoff and 429s are handled in send: no hidden waits in the SDK.
      maxRetries: 0,
      timeoutInSeconds: (options.timeoutMs ?? API_TIMEOUT_MS) / 1000,
      // Notes a reply that went out and got no answer, which the SDK's error does not tell.
      fetch: fetchNotingUnanswered(undefined, options.timeoutMs ?? API_TIMEOUT_MS),
    });
  let context: AdapterContext | undefined;
  let adminId = options.adminId;
  const started = () => {
    if (!context) throw new Error('the Intercom adapter has not been started');
    return context;
  };
  const store = (): Store => started().store;
  const markerStore = (): Store => started().markerStore;
  const logger = (): Logger => started().logger;
  const botAdminId = () => {
    // Replies wait for start (the worker defers their jobs), so this holds whenever one is posted.
    if (!adminId) throw new Error('the Intercom admin the bot replies as is not known yet (GET /me has not answered)');
    return adminId;
  };
  const state = new ConversationState(store);
  // The worker's reads and writes (before asking the AI, before posting, the handoff) wait out a
  // short Redis stall: one that failed fast after the AI answered would have the retry ask it again.
  const workerState = new ConversationState(markerStore);
  const sender = new IntercomSender({ client, state: workerState, adminId: botAdminId, handoffTeamId: options.handoffTeamId, logger });
  const wantsPerson = handoffMatcher(options.handoffPatterns);

  async function receive(request: HttpRequest): Promise<Received> {
    verifyIntercomSignature(request, options.clientSecrets);
    const notification = parseNotification(request);
    if (notification.topic === 'ping') return { response: { status: 200, outcome: 'control' }, messages: [] };
    // Works before start has found the admin: customers' messages are queued, an admin's reply is kept undecided.
    let duplicates = 0;
    const messages = await messagesFromNotification(notification, {
      state,
      botAdminId: () => adminId,
      stopAfterHumanReply: options.stopAfterHumanReply,
      wantsPerson,
      logger,
      duplicate: () => {
        duplicates += 1;
        context?.duplicateDropped?.();
      },
    });
    if (messages.length === 0) logger().debug({ topic: notification.topic, notification: notification.id }, 'nothing to answer in this notification');
    // Nothing taken: a part another notification carried (a duplicate), or nothing to answer. The core tells what became of the rest.
    const outcome = messages.length > 0 ? undefined : duplicates > 0 ? 'duplicate' : 'ignored';
    // Frozen once it has answered (Lambda), MODE=direct answers after the reply, not before it.
    return { response: { status: 200, outcome }, messages, ...(frozen ? { afterAckBeforeResponse: true } : {}) };
  }

  return {
    platform: 'intercom',
    path: options.path,
    contentTypes: ['application/json'],
    redelivers: true,
    // Intercom favours webhooks answered within 500 ms and counts one slower than 5 s as failed: in
    // MODE=direct its webhook is answered once the message is taken, and the reply posted after.
    ackWithinMs: 5000,
    client,
    async start(ctx) {
      context = ctx;
      if (options.handoffTeamId) void checkHandoffTeam(client, options.handoffTeamId, ctx.logger);
      if (adminId) return;
      // One GET /me at start: the token's own admin replies, unless INTERCOM_ADMIN_ID names one.
      try {
        const me = await client.admins.identify({ maxRetries: 0 });
        adminId = me?.id ? String(me.id) : undefined;
      } catch (error) {
        throw new Error(`Intercom GET /me failed (${(error as Error).message.split('\n')[0]}). ${startFix((error as { statusCode?: unknown }).statusCode)}`);
      }
      if (!adminId) throw new Error('Intercom GET /me named no admin. Fix: set INTERCOM_ADMIN_ID to the teammate the bot replies as.');
      ctx.logger.info({ admin: adminId }, 'Intercom: replying as the token\'s admin');
    },
    receive,
    // Split on the markdown (no format): each part becomes HTML as it is posted.
    maxChars: MAX_PART_CHARS,
    sendPart: (conversation, text, part) => sender.sendPart(conversation, text, part),
    // Intercom keeps no key: a reply that may have been taken is looked for by its author, time and text.
    findPart: (conversation, _part, since, text) => sender.findPart(conversation, text, since),
    // Once a teammate has it, a message still queued costs no AI call (sendPart would hold its reply back anyway).
    canReply: async (conversation) => !(await workerState.humanReplied(conversation.details?.conversationId ?? conversation.id, botAdminId())),
    handoff: (conversation) => sender.handoff(conversation),
  } satisfies Adapter<IntercomDetails> & { client: IntercomClient };
}

/**
 * INTERCOM_HANDOFF_TEAM_ID names a team of this workspace: a wrong id would only show at the first
 * handoff, after the customer was told a teammate is coming. Said at start, at error; the bot runs
 * on (answering is unaffected), and a check that cannot be made (Intercom down) says nothing.
 */
async function checkHandoffTeam(client: IntercomClient, teamId: string, logger: Logger): Promise<void> {
  try {
    await client.teams.find({ team_id: teamId }, { maxRetries: 0 });
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 404) logger.error({ team: teamId }, 'INTERCOM_HANDOFF_TEAM_ID names no team of this workspace: handoffs will fail after the customer is told a teammate is coming. Fix: set it to an id from GET /teams');
    else logger.debug({ err: error }, 'could not check INTERCOM_HANDOFF_TEAM_ID');
  }
}

/** What to do about a failed GET /me: a refused token is the operator's to fix; an outage or a network fault passes (start is tried again). */
function startFix(status: unknown): string {
  if (status === 401 || status === 403) return 'Fix: check INTERCOM_ACCESS_TOKEN and INTERCOM_REGION, or set INTERCOM_ADMIN_ID.';
  const what = typeof status === 'number' ? `Intercom answered ${status}` : 'Intercom could not be reached';
  return `${what}: parley tries again; if it goes on, check INTERCOM_REGION (or INTERCOM_API_URL) and the network, or set INTERCOM_ADMIN_ID, which saves this call.`;
}

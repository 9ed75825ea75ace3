/**
 * Alerts: one post to ALERT_WEBHOOK_URL (JSON a Slack incoming webhook takes) and one log line
 * per episode, however many messages or processes see the condition. An episode is claimed in
 * the store, so on Redis every process agrees on who sends it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { retryDelayMs } from '../ai/backoff.js';
import type { AlertRecord } from '../console/api.js';
import { hideUrl, splitCredentials } from '../http/credentials.js';
import type { Metrics } from '../observe/index.js';
import { retryAfterMs } from '../retry-after.js';
import type { Store } from '../store/index.js';
import { UnderWay } from './under-way.js';

export interface AlertsOptions {
  webhookUrl?: string;
  store: Store;
  /** Where `recent` reads (default `store`): the console's, which on Redis fails fast in an outage. */
  readStore?: Store;
  metrics: Metrics;
  logger: Logger;
  /** How a failed post is tried again (default POST_RETRY: for half a minute or more). */
  postRetry?: PostRetry;
}

/**
 * Tries of a post that failed for a reason that may pass (no answer, 5xx, 408, 429), and the first
 * wait between them (doubling, at most 15 s; longer when the webhook's Retry-After asks, up to MAX_ASKED_WAIT_MS).
 */
export interface PostRetry {
  attempts: number;
  initialDelayMs: number;
}

/** Half a minute or more of tries (waits of 0.5, 1, 2, 4, 8, 15 and 15 s, each cut by up to half at random: 23 to 45 s in all): a webhook down that long still gets the alert. */
export const POST_RETRY: PostRetry = { attempts: 8, initialDelayMs: 500 };

/**
 * The longest a webhook's Retry-After is waited out before the next try (a Slack webhook's 429 asks
 * for seconds): asked for longer, the post is tried after this, not sent back inside the window it
 * asked for nor held for an hour.
 */
export const MAX_ASKED_WAIT_MS = 60_000;

/** The kinds of alert parley raises. */
export const ALERT_KINDS = ['budget_warning', 'budget_exceeded', 'dead_letters', 'breaker_open', 'signature_failures', 'ai_key_rejected'] as const;

export interface Alert {
  /** One of ALERT_KINDS. */
  kind: string;
  /** Names the episode within its kind (a budget's period, a key's number...). */
  episode: string;
  text: string;
  /** How long the episode lasts unless `hold` extends it. */
  ttlMs: number;
  details?: Record<string, unknown>;
}

const RECENT_KEY = 'parley:alerts:recent';
const RECENT_KEEP = 100;
const RECENT_TTL_MS = 30 * 24 * 3_600_000;
const POST_TIMEOUT_MS = 5000;

export class Alerts {
  private readonly sending = new UnderWay();
  /** Aborted by stop(): a post waiting to be tried again is given up, and says so. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: AlertsOptions) {
    // parley_alerts_total at 0 for every kind from the start: a series that first appears at 1 has
    // no increase() in Prometheus, so a query over it would miss that alert.
    for (const kind of ALERT_KINDS) options.metrics.alerts.inc({ kind }, 0);
  }

  /** Raise an alert unless its episode is already open; true when this call raised it. */
  async raise(alert: Alert): Promise<boolean> {
    const { store, metrics, logger } = this.options;
    if (!(await store.setIfAbsent(episodeKey(alert), new Date().toISOString(), alert.ttlMs))) return false;
    metrics.alerts.inc({ kind: alert.kind });
    logger.warn({ alert: alert.kind, ...alert.details }, alert.text);
    // The caller (a worker answering a message) does not wait for the webhook.
    void this.sending.track(this.deliver(alert));
    return true;
  }

  /** The condition still holds: keep its episode open (no new alert) for another `ttlMs`. */
  async hold(alert: Pick<Alert, 'kind' | 'episode' | 'ttlMs'>): Promise<void> {
    await this.options.store.set(episodeKey(alert), new Date().toISOString(), alert.ttlMs);
  }

  /** The newest alerts, newest first. */
  async recent(limit = 20): Promise<AlertRecord[]> {
    const items = await (this.options.readStore ?? this.options.store).listRange(RECENT_KEY, -limit, -1);
    return items.map((item) => JSON.parse(item) as AlertRecord).reverse();
  }

  /** Wait for webhook posts under way (tests). */
  settled(): Promise<void> {
    return this.sending.settled();
  }

  /** Shutdown: a post under way gets its current try, none after it; then recorded as not delivered. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.settled();
  }

  private async deliver(alert: Alert): Promise<void> {
    const { webhookUrl, store, logger } = this.options;
    let delivered = false;
    if (webhookUrl) {
      try {
        // An alert held back at the webhook's word is late: say so (a wait, not a failure).
        const onAskedWait = (waitMs: number) => logger.info({ alert: alert.kind, waitMs }, 'the alert webhook asked to wait (Retry-After): posting the alert again then');
        await postTrying(webhookUrl, alert.text, this.options.postRetry ?? POST_RETRY, this.stopping.signal, onAskedWait);
        delivered = true;
      } catch (error) {
        // ALERT_WEBHOOK_URL is a secret (a Slack webhook's path is its key): never in the log.
        // Stopped: only when the stop is what ended the tries (a refusal or redirect says so, as any day).
        const why = error instanceof Stopped ? 'the process stopped before the webhook took it' : hideUrl(failure(error), webhookUrl);
        logger.error({ alert: alert.kind, err: why }, 'could not post the alert to ALERT_WEBHOOK_URL');
      }
    }
    const record: AlertRecord = { kind: alert.kind, text: alert.text, at: new Date().toISOString(), delivered };
    await store.listPush(RECENT_KEY, [JSON.stringify(record)], { maxLength: RECENT_KEEP, ttlMs: RECENT_TTL_MS }).catch(() => undefined);
  }
}

function episodeKey(alert: Pick<Alert, 'kind' | 'episode'>): string {
  return `parley:alert:${alert.kind}:${alert.episode}`;
}

/** The webhook refused the post in a way another try would not change: a redirect (its message names where to, by origin only: the path may be the hook's key), or a 4xx but 408 and 429. */
class Refused extends Error {}

/** The tries were given up because the process is stopping (the webhook had failed for a reason that may pass). */
class Stopped extends Error {}

/** The webhook answered a status that may pass (5xx, 408, 429), maybe saying when to come back (Retry-After). */
class Unavailable extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

/**
 * Post, and post again after a failure that may pass, until the tries run out or `stop` aborts
 * (which cuts a wait between tries short; a try under way is let finish). cockatiel's retry sleeps
 * its waits out whatever its signal says, which would hold a shutdown up to 15 s. A Retry-After
 * (a 429's, a 503's) is waited out, up to MAX_ASKED_WAIT_MS, as Slack's and Twilio's SDKs do: a try
 * sooner would only be refused again, and spend the tries within the window.
 */
async function postTrying(webhookUrl: string, text: string, { attempts, initialDelayMs }: PostRetry, stop: AbortSignal, onAskedWait: (waitMs: number) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let asked: number | undefined;
    try {
      return await post(webhookUrl, text);
    } catch (error) {
      // A redirect or a refusal (404, 403: the hook is gone, or its key wrong) answers the same way each time.
      if (error instanceof Refused || attempt >= attempts) throw error;
      if (stop.aborted) throw new Stopped('stopped', { cause: error });
      if (error instanceof Unavailable) asked = error.retryAfterMs;
    }
    const backoffMs = retryDelayMs({ initialBackoffMs: initialDelayMs, maxBackoffMs: 15_000 }, attempt, undefined, Infinity);
    const waitMs = asked === undefined ? backoffMs : Math.max(backoffMs, Math.min(asked, MAX_ASKED_WAIT_MS));
    if (waitMs > backoffMs) onAskedWait(waitMs);
    const waited = await sleep(waitMs, true, { signal: stop, ref: false }).catch(() => false);
    if (!waited) throw new Stopped('stopped');
  }
}

/**
 * Posts `{ text }`; a user and password in the URL go in an Authorization header (fetch refuses them in the URL).
 * A redirect is not followed: fetch would turn a 301 or 302 POST into a GET without the text and take
 * the page it lands on for a delivered alert, or carry the alert to wherever the redirect points.
 */
async function post(webhookUrl: string, text: string): Promise<void> {
  const { url, authorization } = splitCredentials(webhookUrl);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ text }),
    redirect: 'manual',
    signal: AbortSignal.timeout(POST_TIMEOUT_MS),
  });
  await response.body?.cancel().catch(() => undefined);
  const { status } = response;
  if (status >= 300 && status < 400) throw new Refused(`the alert webhook answered ${status}, a redirect${redirectOrigin(response, url)}: set ALERT_WEBHOOK_URL to the address it points to`);
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) throw new Refused(`the alert webhook answered ${status}`);
  if (!response.ok) throw new Unavailable(`the alert webhook answered ${status}`, retryAfterMs(response.headers));
}

function redirectOrigin(response: Response, url: string): string {
  try {
    const location = response.headers.get('location');
    return location ? ` to ${new URL(location, url).origin}` : '';
  } catch {
    return '';
  }
}

/** Why a post failed, in a few words: the status we threw, the timeout, or the connection error's code. */
function failure(error: unknown): string {
  const e = error as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${POST_TIMEOUT_MS} ms`;
  const cause = typeof e?.cause?.code === 'string' ? e.cause.code : typeof e?.cause?.message === 'string' ? e.cause.message : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  return cause ? `${message} (${cause})` : message;
}

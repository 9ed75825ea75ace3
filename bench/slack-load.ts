/**
 * Load for the Slack ingress benchmark: correctly signed `app_mention` event callbacks, each one
 * distinct, fired by autocannon; and a tally that adds measurement rounds up — acknowledgements,
 * failures, per-request latencies (exact, not autocannon's 1 ms histogram buckets) and the
 * server's CPU time.
 */
import { createHmac } from 'node:crypto';
import autocannon from 'autocannon';
import { cpuTimeMs } from './cpu.js';
import { CONNECTIONS } from './settings.js';

export const SIGNING_SECRET = 'bench-secret';
export const BOT_TOKEN = 'xoxb-bench';
/** The fake Slack's bot user (its auth.test answer), mentioned in every event. */
const BOT_USER = 'UBOT';
const TEAM = 'T0PARLEY';
/** Enough users that each sends a few hundred events a minute: the per-user limiter keeps real state. */
const USERS = 2000;
const CHANNELS = 200;

/** Unique across warm-ups and runs, so every event is a first delivery (dedupe claims, never drops). */
let sequence = 0;

/** How many events `load` has signed (and so sent) so far in this bench run. */
export const eventsSigned = (): number => sequence;

/** Event i's message ts: unique per i. */
export const tsOf = (i: number): string => `${1_700_000_000 + Math.floor(i / 1_000_000)}.${String(i % 1_000_000).padStart(6, '0')}`;

/**
 * One app_mention event callback shaped like Slack's, with its own event id (`Ev0<series><i>`),
 * user, channel and ts; its text, by default "question number <i>", names it in an echoed reply.
 * With `thread`, it is posted in the thread that event number `thread` started (its channel and ts).
 */
export function appMentionBody(i: number, series = 'BENCH', thread?: number, question = `question number ${i}`): string {
  const ts = tsOf(i);
  const user = `UBENCH${i % USERS}`;
  const channel = `CBENCH${(thread ?? i) % CHANNELS}`;
  const threadTs = thread === undefined || thread === i ? {} : { thread_ts: tsOf(thread) };
  return JSON.stringify({
    token: 'bench-verification-token',
    team_id: TEAM,
    api_app_id: 'A0PARLEY',
    event: { type: 'app_mention', user, text: `<@${BOT_USER}> ${question}`, ts, channel, event_ts: ts, ...threadTs },
    type: 'event_callback',
    event_id: `Ev0${series}${i}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: TEAM, user_id: BOT_USER, is_bot: true, is_enterprise_install: false }],
  });
}

/** The headers Slack sends with `body`: HMAC-SHA256 of `v0:<timestamp>:<body>`; the body sent must be exactly the bytes signed. */
export function slackHeaders(body: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = `v0=${createHmac('sha256', SIGNING_SECRET).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'content-type': 'application/json', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature };
}

function signedRequest(request: autocannon.Request): autocannon.Request {
  const body = appMentionBody(sequence++);
  return { ...request, headers: slackHeaders(body), body };
}

/** Everything measured on one server, summed over rounds. */
export class Tally {
  acknowledged = 0;
  non2xx = 0;
  errors = 0;
  timeouts = 0;
  seconds = 0;
  /** Server CPU time during the measured rounds; undefined where /proc is not available. */
  cpuMs: number | undefined = 0;
  /** CPU time of the service the server depends on (Redis), when its pid is given; shared, so approximate. */
  serviceCpuMs: number | undefined = 0;
  private readonly latenciesMs: number[] = [];
  /**
   * @param servicePid a local process whose CPU time the server's work also costs (the Redis
   *   server), or undefined when there is none or it cannot be seen.
   */
  constructor(private readonly servicePid?: number) {
    if (servicePid === undefined) this.serviceCpuMs = undefined;
  }

  get perSecond(): number {
    return this.seconds > 0 ? this.acknowledged / this.seconds : 0;
  }

  get cpuPerEventUs(): number | undefined {
    return this.cpuMs !== undefined && this.acknowledged > 0 ? (this.cpuMs * 1000) / this.acknowledged : undefined;
  }

  get serviceCpuPerEventUs(): number | undefined {
    return this.serviceCpuMs !== undefined && this.acknowledged > 0 ? (this.serviceCpuMs * 1000) / this.acknowledged : undefined;
  }

  get clean(): boolean {
    return this.non2xx === 0 && this.errors === 0 && this.timeouts === 0;
  }

  /** The q-quantile (0..1) of the acknowledgement latencies, in ms. */
  latency(q: number): number {
    if (this.latenciesMs.length === 0) return NaN;
    const sorted = Float64Array.from(this.latenciesMs).sort();
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  }

  /** Fire signed events at `url` for `seconds` and add the round to this tally. */
  async round(url: string, pid: number | undefined, seconds: number): Promise<void> {
    const before = [cpuTimeMs(pid), cpuTimeMs(this.servicePid)] as const;
    const result = await load(url, seconds, (ms) => this.latenciesMs.push(ms));
    const after = [cpuTimeMs(pid), cpuTimeMs(this.servicePid)] as const;
    this.cpuMs = addTime(this.cpuMs, before[0], after[0]);
    this.serviceCpuMs = addTime(this.serviceCpuMs, before[1], after[1]);
    this.acknowledged += result['2xx'];
    this.non2xx += result.non2xx;
    this.errors += result.errors;
    this.timeouts += result.timeouts;
    this.seconds += result.duration;
  }
}

/**
 * Fire signed events for `seconds` (a warm-up when no one looks at the result). `onAckLatency` hears
 * the steady state: each connection's first request is left out, since all 50 connections open and
 * send at once when a round starts — a burst of the harness, not of Slack's traffic.
 */
export function load(url: string, seconds: number, onAckLatency: (ms: number) => void = () => undefined): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: `${url}/slack/events`, connections: CONNECTIONS, duration: seconds, requests: [{ method: 'POST', setupRequest: signedRequest }] },
      (error: unknown, result: autocannon.Result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result)),
    );
    const started = new WeakSet<object>();
    instance.on('response', (client, status, _bytes, ms) => {
      if (!started.has(client)) return void started.add(client);
      if (status >= 200 && status < 300) onAckLatency(ms);
    });
  });
}

/** `total` plus the time from `before` to `after`; undefined once any of them is unknown. */
function addTime(total: number | undefined, before: number | undefined, after: number | undefined): number | undefined {
  return total !== undefined && before !== undefined && after !== undefined ? total + after - before : undefined;
}

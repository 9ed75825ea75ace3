/**
 * Traffic per UTC minute, all processes together: each process adds what its own metrics counted
 * since its last flush (every 2 s) to the minute's shared counters. Nothing is added to the ack
 * path: the counts come from the Prometheus counters parley keeps anyway.
 */
import type { Logger } from 'pino';
import type { MinuteCounts } from '../console/api.js';
import { REPLY_BUCKETS } from '../observe/metrics.js';
import type { Metrics } from '../observe/index.js';
import type { Tally } from './tally.js';

/** Minute buckets outlive the console's hour and the longest ALERT_DLQ_MINUTES window. */
const MINUTE_TTL_MS = 25 * 3_600_000;
const FLUSH_MS = 2000;
/** The reason names under which adapters refuse a webhook's signature or its timestamp. */
export const SIGNATURE_REASON = /signature|timestamp/;

/** One minute's counters: MinuteCounts' fields and the raw ones behind the console's figures. */
export type MinuteFields = Record<string, number>;

export class Activity {
  private readonly flushed = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly metrics: Metrics,
    private readonly tally: Tally,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** Stop, adding what is left. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Add what the counters gained since the last flush to the current minute. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const now = await counted(this.metrics);
      const gained: Record<string, number> = {};
      for (const [field, value] of Object.entries(now)) {
        const delta = value - (this.flushed.get(field) ?? 0);
        if (delta > 0) gained[field] = delta;
      }
      if (Object.keys(gained).length === 0) return;
      try {
        await this.tally.add(minuteKey(new Date()), gained, MINUTE_TTL_MS);
        for (const field of Object.keys(gained)) this.flushed.set(field, now[field]!);
      } catch (error) {
        // Kept for the next flush: the counters only grow.
        this.logger.debug({ err: error }, 'could not add this minute\'s activity; will retry');
      }
    });
    return this.flushing;
  }

  /** The last `count` minutes (the current one included), oldest first. */
  async minutes(count: number, now = new Date()): Promise<{ minute: string; fields: MinuteFields }[]> {
    const minutes = Array.from({ length: count }, (_, i) => new Date(now.getTime() - (count - 1 - i) * 60_000));
    return Promise.all(minutes.map(async (at) => ({ minute: minuteOf(at), fields: await this.tally.read(minuteKey(at)) })));
  }
}

/** The console's view of a minute. */
export function minuteCounts(minute: string, fields: MinuteFields): MinuteCounts {
  return { minute, received: fields.received ?? 0, answered: fields.answered ?? 0, apologised: fields.apologised ?? 0, deadLettered: fields.dead ?? 0 };
}

/** Sum minutes' fields. */
export function sumFields(minutes: { fields: MinuteFields }[]): MinuteFields {
  const total: MinuteFields = {};
  for (const { fields } of minutes) for (const [field, value] of Object.entries(fields)) total[field] = (total[field] ?? 0) + value;
  return total;
}

/** p-quantile of the time to reply, in ms, from the minutes' bucket counts (interpolated within a bucket). */
export function replyQuantile(fields: MinuteFields, q: number): number | null {
  const count = fields.answered ?? 0;
  if (count <= 0) return null;
  const rank = q * count;
  let below = 0;
  let lower = 0;
  for (const bound of REPLY_BUCKETS) {
    const cumulative = fields[`le_${bound}`] ?? 0;
    if (cumulative >= rank) {
      const inBucket = cumulative - below;
      const share = inBucket > 0 ? (rank - below) / inBucket : 1;
      return Math.round((lower + (bound - lower) * share) * 1000);
    }
    below = cumulative;
    lower = bound;
  }
  return Math.round(lower * 1000);
}

export function minuteOf(at: Date): string {
  return at.toISOString().slice(0, 16);
}

function minuteKey(at: Date): string {
  return `parley:ops:minute:${minuteOf(at)}`;
}

/** This process's counters since it started, under the field names the minutes keep. */
async function counted(metrics: Metrics): Promise<Record<string, number>> {
  const fields: Record<string, number> = {};
  const add = (field: string, value: number) => (fields[field] = (fields[field] ?? 0) + value);
  for (const { value } of (await metrics.messagesReceived.get()).values) add('received', value);
  for (const { value, labels } of (await metrics.repliesSent.get()).values) if (labels.kind === 'apology') add('apologised', value);
  for (const { value } of (await metrics.deadLettered.get()).values) add('dead', value);
  for (const { value, labels } of (await metrics.cacheLookups.get()).values) add(labels.result === 'hit' ? 'cache_hit' : 'cache_miss', value);
  for (const { value } of (await metrics.rateLimited.get()).values) add('rate_limited', value);
  for (const { value, labels } of (await metrics.webhooksRejected.get()).values) if (SIGNATURE_REASON.test(String(labels.reason))) add('signature_failures', value);
  for (const { value, labels, metricName } of (await metrics.replySeconds.get()).values) {
    const le = (labels as { le?: string | number }).le;
    if (metricName === 'parley_reply_seconds_count') add('answered', value);
    else if (metricName === 'parley_reply_seconds_bucket' && le !== undefined && le !== '+Inf') add(`le_${le}`, value);
  }
  return fields;
}

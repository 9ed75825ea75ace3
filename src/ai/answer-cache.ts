/**
 * The AI client's use of the response cache: answers kept for CACHE_TTL_SECONDS under the request's
 * key, and single-flight across processes (a process asking a question claims it; the others wait
 * for its answer in the cache). A broken cache must cost money, not answers: its errors are taken
 * for a miss and logged as an outage (a Redis away fails every answer's read, claim and write: one
 * line, then one a minute, then one when it works again; not three lines per answer).
 */
import type { Logger } from 'pino';
import { OutageLog } from '../observe/outage-log.js';
import { withoutThinking } from './think.js';
import type { AiResult, ResponseCache } from './types.js';

/** How long one process may hold a question for the others (they ask themselves after that). */
const SINGLE_FLIGHT_CLAIM_MS = 10_000;

export interface AnswerCacheOptions {
  /** CACHE_TTL_SECONDS; 0 keeps nothing. */
  ttlSeconds: number;
  /** A whole call's deadline: the longest wait for another process's answer. */
  deadlineMs: number;
  logger?: Logger;
  /** Told of each lookup: hit or miss. */
  onLookup?: (hit: boolean) => void;
}

/** An answer given again (from the cache, or shared with an identical call): nothing was billed for it. */
export function asShared(result: AiResult): AiResult {
  return { ...result, usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 }, cached: true };
}

export class AnswerCache {
  /** A claim outlives its holder only briefly: one left by a crash must not hold the question long. */
  private readonly claimMs: number;
  private readonly outage: OutageLog | undefined;

  constructor(
    private readonly cache: ResponseCache,
    private readonly options: AnswerCacheOptions,
  ) {
    this.claimMs = Math.min(options.deadlineMs, SINGLE_FLIGHT_CLAIM_MS);
    this.outage =
      options.logger &&
      new OutageLog(
        options.logger,
        'AI response cache unusable; the AI is asked without it (logged once a minute while it lasts)',
        'the AI response cache can be used again',
      );
  }

  get enabled(): boolean {
    return this.options.ttlSeconds > 0;
  }

  /**
   * The kept answer, as given again; undefined on a miss or with the cache off. The lookup is
   * reported; with `missCounted: false` only a hit is (a miss that another lookup follows).
   */
  async lookup(key: string, { missCounted = true } = {}): Promise<AiResult | undefined> {
    if (!this.enabled) return undefined;
    const hit = await this.read(key);
    if (hit || missCounted) this.options.onLookup?.(hit !== undefined);
    return hit && { ...asShared(hit), cacheKey: key };
  }

  /** Whether an answer is kept (what the calls-per-minute limit asks); not reported as a lookup. */
  async holds(key: string): Promise<boolean> {
    return this.enabled && (await this.read(key)) !== undefined;
  }

  /** Keep an answer for the next asker (nothing with the cache off): the result, with the key it is kept under. */
  async keep(key: string, result: AiResult): Promise<AiResult> {
    if (!this.enabled) return result;
    try {
      await this.cache.set(key, result, this.options.ttlSeconds * 1000);
      this.outage?.worked('failedUses');
    } catch (error) {
      this.outage?.failed(error, { use: 'write' });
    }
    return { ...result, cacheKey: key };
  }

  /** Delete answers (a conversation's erase); a failure is thrown: the erase is not done. */
  async forget(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.cache.delete?.(keys);
  }

  /**
   * Single-flight across processes: when another process is already asking the same question,
   * wait for its answer in the shared cache instead of paying for it again. Gives up (and asks
   * itself) when that process stops holding its claim without an answer, or at the deadline.
   * `led`: this process holds the claim (keep it with `keepClaim`, give it back with `release`).
   */
  async fromAnotherProcess(key: string, signal: AbortSignal | undefined): Promise<{ answer?: AiResult; led: boolean }> {
    const { claim, claimed } = this.cache;
    if (!this.enabled || !claim || !claimed) return { led: false };
    try {
      const claimedNow = await claim.call(this.cache, key, this.claimMs);
      this.outage?.worked('failedUses');
      if (claimedNow) return { led: true };
      // As long as the holder keeps its claim (it renews it while its call runs), up to a whole call's deadline.
      const giveUpAt = Date.now() + this.options.deadlineMs;
      while (Date.now() < giveUpAt && !signal?.aborted) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const answer = await this.read(key);
        if (answer) return { answer: { ...asShared(answer), cacheKey: key }, led: false };
        if (!(await claimed.call(this.cache, key))) break;
      }
    } catch (error) {
      this.outage?.failed(error, { use: 'single-flight claim' });
    }
    return { led: false };
  }

  /** Renew this process's claim while its call runs; a lost claim (a Redis blip) is simply not renewed. */
  keepClaim(key: string): NodeJS.Timeout | undefined {
    const extend = this.cache.extend;
    if (!extend) return undefined;
    const timer = setInterval(() => void extend.call(this.cache, key, this.claimMs).catch(() => undefined), this.claimMs / 3);
    timer.unref();
    return timer;
  }

  async release(key: string): Promise<void> {
    await this.cache.release?.(key).catch(() => undefined);
  }

  private async read(key: string): Promise<AiResult | undefined> {
    try {
      const kept = await this.cache.get(key);
      this.outage?.worked('failedUses');
      return kept && shown(kept);
    } catch (error) {
      this.outage?.failed(error, { use: 'read' });
      return undefined;
    }
  }
}

/**
 * A kept answer as the user may see it. One kept by a parley before `<think>` blocks were left out
 * (the cache outlives an upgrade, and is shared with older processes while a deploy rolls) may begin
 * with the model's thinking: left out here too; one that is only thinking is a miss.
 */
function shown(kept: AiResult): AiResult | undefined {
  const text = withoutThinking(kept.text);
  if (text === kept.text) return kept;
  return text ? { ...kept, text } : undefined;
}

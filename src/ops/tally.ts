/**
 * Shared counters: a hash of numbers per key, added to by every process and expiring on its own.
 * Spend per UTC day and month, and traffic per minute, live here. In memory by default; on Redis
 * (HINCRBYFLOAT) when REDIS_URL is set, so the console and the budgets see every process.
 */
import type { RedisClient } from '../store/redis-connection.js';
import { redisScript } from '../store/redis-script.js';

export interface Tally {
  /** Add `amounts` to the fields of `key` (created with `ttlMs`); resolves to those fields' new totals. */
  add(key: string, amounts: Record<string, number>, ttlMs: number): Promise<Record<string, number>>;
  /** The fields of `key` (all, or only `fields`; absent ones are left out). Empty when it does not exist or expired. */
  read(key: string, fields?: string[]): Promise<Record<string, number>>;
  /** Release connections; `bot.close()` calls it for a tally given to createBot. */
  close?(): Promise<void>;
  /** Counts only in this process's memory: another process does not see them, and a restart starts again at 0. */
  readonly volatile?: boolean;
}

export class MemoryTally implements Tally {
  readonly volatile = true;
  private readonly hashes = new Map<string, { fields: Map<string, number>; expiresAt: number }>();

  async add(key: string, amounts: Record<string, number>, ttlMs: number): Promise<Record<string, number>> {
    let hash = this.live(key);
    if (!hash) {
      hash = { fields: new Map(), expiresAt: 0 };
      this.hashes.set(key, hash);
      this.sweep();
    }
    hash.expiresAt = Date.now() + ttlMs;
    const totals: Record<string, number> = {};
    for (const [field, amount] of Object.entries(amounts)) {
      const total = (hash.fields.get(field) ?? 0) + amount;
      hash.fields.set(field, total);
      totals[field] = total;
    }
    return totals;
  }

  async read(key: string, fields?: string[]): Promise<Record<string, number>> {
    const all = this.live(key)?.fields ?? new Map<string, number>();
    if (!fields) return Object.fromEntries(all);
    return Object.fromEntries(fields.filter((field) => all.has(field)).map((field) => [field, all.get(field)!]));
  }

  private live(key: string) {
    const hash = this.hashes.get(key);
    if (hash && hash.expiresAt <= Date.now()) {
      this.hashes.delete(key);
      return undefined;
    }
    return hash;
  }

  /** Drop expired hashes when a new one is made (at most one per minute key and period). */
  private sweep(): void {
    const now = Date.now();
    for (const [key, hash] of this.hashes) if (hash.expiresAt > 0 && hash.expiresAt <= now) this.hashes.delete(key);
  }
}

/** HINCRBYFLOAT each field (ARGV[2…] in pairs: field, amount), then PEXPIRE ARGV[1] ms; the new totals. */
const addToHash = redisScript(
  1,
  `local totals = {}
for i = 2, #ARGV, 2 do totals[#totals + 1] = redis.call('hincrbyfloat', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('pexpire', KEYS[1], ARGV[1])
return totals`,
);

export class RedisTally implements Tally {
  /**
   * `writer` gives the connection that takes the counts (default: `redis`): the worker's patient
   * one, so a count waits out a short outage and leaves with the worker's other writes; asked for
   * on the first count, so it opens nothing before. Reads go to `redis`, which fails fast, so the
   * console answers at once while Redis is down.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly writer: () => RedisClient = () => redis,
  ) {}

  async add(key: string, amounts: Record<string, number>, ttlMs: number): Promise<Record<string, number>> {
    const fields = Object.entries(amounts);
    if (fields.length === 0) return {};
    // One command: every field, and the expiry pushed out (a key outlives its last write by `ttlMs`, then goes).
    const totals = (await addToHash(this.writer(), this.prefix + key, String(Math.ceil(ttlMs)), ...fields.flat())) as string[];
    return Object.fromEntries(fields.map(([field], i) => [field, Number(totals[i])]));
  }

  async read(key: string, fields?: string[]): Promise<Record<string, number>> {
    if (fields) {
      if (fields.length === 0) return {};
      const values = await this.redis.hmget(this.prefix + key, ...fields);
      return Object.fromEntries(fields.flatMap((field, i) => (values[i] == null ? [] : [[field, Number(values[i])]])));
    }
    const hash = await this.redis.hgetall(this.prefix + key);
    return Object.fromEntries(Object.entries(hash).map(([field, value]) => [field, Number(value)]));
  }
}

import { randomUUID } from 'node:crypto';
import type { Store } from './store.js';

interface Entry {
  value: string | string[];
  expiresAt?: number;
}

/** The default store: one process, nothing to set up. Expired keys are dropped lazily and by a sweep. */
export class MemoryStore implements Store {
  readonly volatile = true;
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepIntervalMs = 30_000) {
    this.sweeper = setInterval(() => this.sweep(), sweepIntervalMs);
    this.sweeper.unref();
  }

  async get(key: string): Promise<string | undefined> {
    const value = this.live(key)?.value;
    return typeof value === 'string' ? value : undefined;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: expiry(ttlMs) });
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.entries.set(key, { value, expiresAt: expiry(ttlMs) });
    return true;
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async listPush(key: string, values: string[], options: { maxLength?: number; ttlMs?: number } = {}): Promise<void> {
    const current = this.live(key)?.value;
    const list = Array.isArray(current) ? [...current, ...values] : [...values];
    const kept = options.maxLength !== undefined ? list.slice(-options.maxLength) : list;
    this.entries.set(key, { value: kept, expiresAt: expiry(options.ttlMs) });
  }

  async listRange(key: string, start: number, stop: number): Promise<string[]> {
    const list = this.live(key)?.value;
    if (!Array.isArray(list)) return [];
    const from = start < 0 ? Math.max(list.length + start, 0) : start;
    const to = stop < 0 ? list.length + stop : Math.min(stop, list.length - 1);
    if (to < from) return [];
    return list.slice(from, to + 1);
  }

  async acquireLock(key: string, ttlMs: number): Promise<string | undefined> {
    const token = randomUUID();
    return (await this.setIfAbsent(key, token, ttlMs)) ? token : undefined;
  }

  async extendLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    if ((await this.get(key)) !== token) return false;
    await this.set(key, token, ttlMs);
    return true;
  }

  async releaseLock(key: string, token: string): Promise<boolean> {
    return this.deleteIf(key, token);
  }

  async deleteIf(key: string, value: string): Promise<boolean> {
    if ((await this.get(key)) !== value) return false;
    this.entries.delete(key);
    return true;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    for (const key of this.entries.keys()) this.live(key);
  }
}

function expiry(ttlMs?: number): number | undefined {
  return ttlMs !== undefined && ttlMs > 0 ? Date.now() + ttlMs : undefined;
}

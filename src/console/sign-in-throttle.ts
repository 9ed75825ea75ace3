/**
 * The console's sign-in throttle: failed attempts per client address per minute. Only failures
 * count, so the operator's own sign-ins never use it up, and each address counts alone, so others'
 * wrong guesses never lock out the right token from elsewhere. An address over the limit is
 * refused before its token is looked at: otherwise a script could go on guessing at speed.
 */
const MAX_ADDRESSES = 10_000;

export class SignInThrottle {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `key` may try again, or undefined when it may try now. */
  refusedFor(key: string): number | undefined {
    const entry = this.failures.get(key);
    const now = this.now();
    if (!entry || entry.resetAt <= now) return undefined;
    return entry.count >= this.perMinute ? entry.resetAt - now : undefined;
  }

  failed(key: string): void {
    const now = this.now();
    const entry = this.failures.get(key);
    if (entry && entry.resetAt > now) {
      entry.count++;
      return;
    }
    if (this.failures.size >= MAX_ADDRESSES) this.prune(now);
    this.failures.set(key, { count: 1, resetAt: now + 60_000 });
  }

  /** Forget windows that are over; if every one is current (a flood of addresses), the oldest. */
  private prune(now: number): void {
    for (const [key, entry] of this.failures) if (entry.resetAt <= now) this.failures.delete(key);
    while (this.failures.size >= MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
  }
}

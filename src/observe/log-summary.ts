/**
 * Log lines a flood would write once per request (a refused signature, a message over a rate
 * limit), summarised: the first of a kind is written, the same kind again within the window is only
 * counted, and the first one after the window is written with how many were left out meanwhile.
 * The metrics count every one; the log says what happened without becoming a firehose.
 */

/** How long one written line stands for the lines of its kind that follow it. */
export const SUMMARY_WINDOW_MS = 60_000;
/** Kinds remembered at most (a key may hold text a sender chose); past it the oldest is forgotten. */
const MAX_KINDS = 200;
/**
 * Variants of one group (a refusal's text, which may hold what a sender chose: its content type)
 * told apart in one window; past them the group's new variants are one kind, so a sender varying
 * the text still writes a few lines a minute, not one a request.
 */
export const MAX_VARIANTS = 5;

interface Kind {
  writtenAt: number;
  leftOut: number;
}

export class LogSummary {
  private readonly kinds = new Map<string, Kind>();
  /** Each group's variants told apart in its current window. */
  private readonly variants = new Map<string, { since: number; told: Set<string> }>();

  constructor(private readonly windowMs = SUMMARY_WINDOW_MS) {}

  /**
   * Whether a line of kind `key` is written now: undefined when it is left out (counted), else the
   * number of lines of its kind left out since the last one written (0 for none).
   */
  take(key: string, now = Date.now()): number | undefined {
    const kind = this.kinds.get(key);
    if (kind && now - kind.writtenAt < this.windowMs) {
      kind.leftOut++;
      return undefined;
    }
    const leftOut = kind?.leftOut ?? 0;
    // Re-inserted, so the Map's order is the order of last writes: the first key is the stalest.
    this.kinds.delete(key);
    this.kinds.set(key, { writtenAt: now, leftOut: 0 });
    if (this.kinds.size > MAX_KINDS) this.kinds.delete(this.kinds.keys().next().value as string);
    return leftOut;
  }

  /** `take` for kind `variant` of `group`: past MAX_VARIANTS variants in a window, the group's others are one kind. */
  takeOf(group: string, variant: string, now = Date.now()): number | undefined {
    let window = this.variants.get(group);
    if (!window || now - window.since >= this.windowMs) {
      this.variants.delete(group);
      this.variants.set(group, (window = { since: now, told: new Set() }));
      if (this.variants.size > MAX_KINDS) this.variants.delete(this.variants.keys().next().value as string);
    }
    if (!window.told.has(variant)) {
      if (window.told.size >= MAX_VARIANTS) return this.take(`${group} (others)`, now);
      window.told.add(variant);
    }
    return this.take(`${group} ${variant}`, now);
  }
}

/** One summary per logger (so per bot): two bots in one process do not silence each other. */
const summaries = new WeakMap<object, LogSummary>();

/** The summary of lines written through `logger`. */
export function logSummaryOf(logger: object): LogSummary {
  let summary = summaries.get(logger);
  if (!summary) summaries.set(logger, (summary = new LogSummary()));
  return summary;
}

/** The fields that say how many lines of this kind were left out before this one ({} for none). */
export function leftOutFields(leftOut: number): { leftOut?: number } {
  return leftOut > 0 ? { leftOut } : {};
}

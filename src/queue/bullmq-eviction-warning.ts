/**
 * BullMQ prints `IMPORTANT! Eviction policy is allkeys-lru. It should be "noeviction"` with
 * console.warn when one of its connections starts (RedisConnection.getRedisVersionAndType): a
 * plain-text line amid parley's JSON log, which already says the same in JSON (backends.ts). Its
 * only switch, skipVersionCheck, would also skip the version check and the capabilities BullMQ
 * reads from it. So while BullMQ connections start, and only then, console.warn drops that one line.
 */
const evictionLine = /^IMPORTANT! Eviction policy is \S+\. It should be "noeviction"$/;

let starting = 0;
let original: typeof console.warn | undefined;

function filtered(...args: unknown[]): void {
  if (args.length === 1 && typeof args[0] === 'string' && evictionLine.test(args[0])) return;
  (original ?? console.warn).apply(console, args);
}

/** Drop BullMQ's plain-text eviction-policy line until `started` settles (every other console.warn passes). */
export function withoutEvictionWarning(started: Promise<unknown>): void {
  if (starting++ === 0) {
    original = console.warn;
    console.warn = filtered;
  }
  const done = () => {
    if (--starting > 0) return;
    // Someone else may have replaced console.warn meanwhile: theirs stays.
    if (console.warn === filtered && original) console.warn = original;
    original = undefined;
  };
  started.then(done, done);
}

/**
 * Why the console cannot read its figures, in the words /readyz uses. When the store does not
 * answer its ping that is the cause; otherwise the failed read's own error.
 */
import { downReason } from '../store/down-reason.js';
import { withTimeout } from '../timeout.js';

export interface Outage {
  reason: 'store_unreachable' | 'unavailable';
  message: string;
}

/** Long enough for a healthy Redis, short enough that the page hears of an outage at once. */
const PING_MS = 1000;

export async function outageOf(error: unknown, ping: () => Promise<void>): Promise<Outage> {
  const down = await withTimeout(ping(), PING_MS, `no answer to a ping within ${PING_MS} ms`).then(
    () => undefined,
    // ioredis's own words ("Stream isn't writeable…") said as /readyz says them
    (e: unknown) => firstLine(downReason(e instanceof Error ? e.message : String(e))),
  );
  if (down !== undefined) {
    return { reason: 'store_unreachable', message: `The store (Redis) is unreachable: ${down}. /readyz reports it too; the figures come back once the store answers.` };
  }
  return { reason: 'unavailable', message: `The console could not read its figures: ${firstLine(error)}.` };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? '').replace(/\.$/, '').slice(0, 200) || 'unknown error';
}

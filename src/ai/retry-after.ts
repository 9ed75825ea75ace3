import { retryAfterMs as readRetryAfter } from '../retry-after.js';

/**
 * How long a server asked us to wait, from `retry-after-ms` (OpenAI, Azure) or the standard
 * `Retry-After` (delta-seconds or an HTTP date). Undefined when absent or unparsable.
 */
export function retryAfterMs(headers: Headers | undefined | null, now = Date.now()): number | undefined {
  return readRetryAfter(headers, { now });
}

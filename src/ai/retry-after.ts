/**
 * How long a server asked us to wait, from `retry-after-ms` (OpenAI, Azure) or the standard
 * `Retry-After` (delta-seconds or an HTTP date). Undefined when absent or unparsable.
 */
export function retryAfterMs(headers: Headers | undefined | null, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const header = headers.get('retry-after');
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(header);
  // A date in the past means "now"; clock skew must not turn into a negative wait.
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Why a request reached nothing, in the socket's own words. fetch says only "fetch failed" and the
 * openai SDK only "Connection error.": each keeps the reason as its cause (`connect ECONNREFUSED
 * 127.0.0.1:3000`, `getaddrinfo ENOTFOUND host`, a TLS certificate's complaint), which is what the
 * Redis and AWS lines of `parley check` print too.
 */

/** The innermost cause's message (an AggregateError's: each address tried); never a URL's user or password. */
export function whyUnreached(error: unknown): string {
  let reason = error;
  for (let depth = 0; depth < 5 && hasMessage(reason) && hasMessage(reason.cause); depth++) reason = reason.cause;
  return withoutCredentials(textOf(reason));
}

function textOf(error: unknown): string {
  if (!hasMessage(error)) return String(error);
  // Each address of a name (localhost: ::1 and 127.0.0.1) refused: the AggregateError's own message is empty.
  const each = Array.isArray(error.errors) ? [...new Set(error.errors.map(textOf))] : [];
  if (each.length > 0) return each.join('; ');
  return error.message || (typeof error.code === 'string' ? error.code : error.name ?? 'unknown error');
}

function hasMessage(value: unknown): value is { message: string; cause?: unknown; errors?: unknown; code?: unknown; name?: string } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/** A user and password in a URL are credentials: never printed (`https://…@host/…`). */
export function withoutCredentials(text: string): string {
  return text.replace(/\/\/[^\s@]*@/g, '//…@');
}

/**
 * How an outside answer that is not what was asked for is told in logs and dead letters, without
 * its text (a proxy's login page may hold anything): what it was and its length; and where a
 * redirect that is not followed pointed, its origin only (a path may hold anything too).
 */

/** An empty body, an HTML page, or something else that is not JSON, with its length. */
export function unreadableBody(text: string): string {
  if (text.trim() === '') return 'an empty body';
  return `${/^\s*</.test(text) ? 'an HTML page' : 'something that is not JSON'} (${text.length} characters)`;
}

/** The origin a redirect's Location names (read against `base`, the request's URL, when known). */
export function redirectOrigin(location: unknown, base?: string): string {
  if (typeof location !== 'string' || location === '') return 'nowhere said';
  try {
    return new URL(location, base).origin;
  } catch {
    return base === undefined ? 'a relative or unreadable Location' : 'an unreadable Location';
  }
}

/** Reading a cookie, and escaping text for the small HTML pages parley serves. */

/** The value of cookie `name` in a Cookie header; undefined when absent or empty. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  return readCookies(header, name)[0];
}

/**
 * Every value of cookie `name` in a Cookie header, in the order sent (empty ones left out). A host of
 * the same site (a sibling subdomain) can set one of the same name for the whole domain on a longer
 * path, which browsers send first: a session check looks at them all, not at the first alone.
 */
export function readCookies(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  for (const part of header?.split(';') ?? []) {
    const [key, ...value] = part.trim().split('=');
    if (key === name && value.join('=')) values.push(value.join('='));
  }
  return values;
}

/** Text safe inside HTML elements and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A console list's `limit` parameter: held within 1…`max` (a fraction rounds down); `fallback` when absent, blank or not a number. */
export function pageLimitOf(given: string | null | undefined, fallback: number, max: number): number {
  const text = given?.trim();
  const limit = Number(text);
  if (!text || Number.isNaN(limit)) return fallback;
  return Math.min(Math.max(Math.floor(limit), 1), max);
}

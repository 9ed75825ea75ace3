/**
 * Numbers in the texts people read (alerts, notices): dollars in fixed notation, never "1.0e-7",
 * and counts whose noun agrees with them.
 */

const grouped = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/**
 * Dollars: two decimals from $1 ($1,234.50); under $1 four ($0.0123), or as many as its first two
 * significant digits need ($0.00015, $0.0000001: a tiny budget is still the budget that was set).
 */
export function usd(amount: number): string {
  if (!Number.isFinite(amount)) return `$${amount}`;
  const sign = amount < 0 ? '-' : '';
  const size = Math.abs(amount);
  // 0.99999 would read $1.0000: from where four decimals round up to $1, two.
  if (Number(size.toFixed(4)) >= 1) return `${sign}$${grouped.format(size)}`;
  // toFixed takes at most 100 decimals; amounts that small read as $0.0000.
  const decimals = size === 0 ? 4 : Math.min(100, Math.max(4, Math.floor(-Math.log10(size)) + 2));
  const fixed = size.toFixed(decimals).replace(/(\.\d{4}\d*?)0+$/, '$1');
  return `${sign}$${fixed}`;
}

/** "1 message", "3 messages": `plural` for nouns that do not just take an s. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

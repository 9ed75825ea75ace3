/** Numbers, money, durations and times as the console shows them, in the browser's locale. */

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });
const usdLarge = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
export const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export const isNumber = (n) => typeof n === 'number' && Number.isFinite(n);
export const fmtInt = (n) => (isNumber(n) ? integer.format(n) : '–');
/** Under $1, formatters by their most decimals (4 and more). */
const usdSmall = new Map();
/**
 * Dollars: 2 decimals from $1, 4 under it, or as many as its first two significant digits need (a
 * call of a few tokens costs millionths: $0.0000048, not $0.0000; a tiny budget reads as it was set).
 */
export function fmtUsd(n) {
  if (!isNumber(n)) return '–';
  const size = Math.abs(n);
  if (Number(size.toFixed(4)) >= 1) return usdLarge.format(n);
  // Older browsers take at most 20 decimals.
  const decimals = size === 0 ? 4 : Math.min(20, Math.max(4, Math.floor(-Math.log10(size)) + 2));
  if (!usdSmall.has(decimals)) usdSmall.set(decimals, new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', minimumFractionDigits: 4, maximumFractionDigits: decimals }));
  return usdSmall.get(decimals).format(n);
}
export const fmtPct = (r) => (isNumber(r) ? percent.format(r) : '–');
export function fmtMs(ms) {
  if (!isNumber(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}
/** An ISO time in the browser's locale and time zone. */
export function fmtTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso ?? '–') : date.toLocaleString();
}
const shortTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
/** An ISO time, shorter (tables): the full one goes in the cell's title. */
export function fmtShortTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso ?? '–') : shortTime.format(date);
}
/** An API minute ("2026-12-02T10:41", UTC) as a Date. */
export function minuteDate(minute) {
  const text = String(minute);
  return new Date(/(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text.length <= 16 ? `${text}:00` : text}Z`);
}

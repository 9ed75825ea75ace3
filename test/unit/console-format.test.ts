/**
 * Money as the console shows it (src/console/assets/format.js, the browser's own module): a tiny
 * budget or a call of a few tokens keeps its digits, never "<$0.0001" nor an exponent.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the console's browser module is plain JavaScript, without types
import { fmtUsd } from '../../src/console/assets/format.js';

const usd = fmtUsd as (n: unknown) => string;
// In the locale these tests run in, as the browser would show it: its digits and its decimal
// separator read as '.', to compare (LANG=de_DE writes 0,5000).
const separator = new Intl.NumberFormat().formatToParts(1.5).find((part) => part.type === 'decimal')?.value ?? '.';
const digits = (text: string) => [...text].filter((c) => /\d/.test(c) || c === separator).join('').replace(separator, '.');

describe('console: fmtUsd', () => {
  it('under $0.0001: the first two significant digits, in fixed notation', () => {
    expect(digits(usd(0.0000001))).toBe('0.0000001');
    expect(digits(usd(0.0000048))).toBe('0.0000048');
    expect(digits(usd(0.0000144))).toBe('0.000014');
    for (const n of [0.0000001, 0.0000048, 1e-15]) expect(usd(n)).not.toMatch(/<|e-?\d/i);
  });

  it('four decimals under $1, two from $1, as before', () => {
    expect(digits(usd(0))).toBe('0.0000');
    expect(digits(usd(0.001))).toBe('0.0010');
    expect(digits(usd(0.00015))).toBe('0.00015');
    expect(digits(usd(0.5))).toBe('0.5000');
    expect(digits(usd(12.5))).toBe('12.50');
    expect(usd(undefined)).toBe('–');
  });
});

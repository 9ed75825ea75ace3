/**
 * "Can I talk to a human?": whole-word, case-insensitive matching of the configured phrases.
 * Phrases are escaped literals joined by flexible whitespace, so matching stays linear.
 */

/** Scripts written without spaces, and their punctuation: an address ends where they begin. */
const UNSPACED_CHARS = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Thai}\\u3000-\\u303f\\uff00-\\uffef';
/** The rest of an address: up to a space, or to where such a script begins. */
const TAIL = `[^\\s${UNSPACED_CHARS}]`;
/** A letter or digit of an address (or one of `extra`), in a script written with spaces. */
const addressChar = (extra: string) => `(?:(?![${UNSPACED_CHARS}])[\\p{L}\\p{N}${extra}])`;

/**
 * An address in the text is not the customer's words: a web address with or without its scheme
 * (https://x.com/agents, www.x.com/agents, help.example.com/human-resources) or an e-mail address
 * (human.resources@acme.com). Each alternative starts only where no address character precedes
 * it, so matching stays linear; in Chinese or Japanese text it ends where the words go on.
 */
const WEB_ADDRESS = new RegExp(
  [
    `\\bhttps?:\\/\\/${TAIL}+`,
    `\\bwww\\.${TAIL}+`,
    `(?<!${addressChar('._%+-')})${addressChar('._%+-')}+@${addressChar('-')}+(?:\\.${addressChar('-')}+)+`,
    `(?<!${addressChar('.-')})${addressChar('-')}+(?:\\.${addressChar('-')}+)+\\/${TAIL}*`,
  ].join('|'),
  'giu',
);

/** A letter or a digit: part of a word. */
const WORD = '[\\p{L}\\p{N}]';
/** What joins a compound: a hyphen (ASCII, U+2010, U+2011 non-breaking) or an underscore. */
const JOINER = '[-_\\u2010\\u2011]';
/** A phrase in a script written without spaces between words. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;

/** A test for handoff requests; never matches when there are no patterns. */
export function handoffMatcher(patterns: readonly string[]): (text: string) => boolean {
  const phrases = patterns
    .map((p) => foldForMatching(p).trim())
    .filter(Boolean)
    .map((p) => p.split(/\s+/).map(escapeRegExp).join('\\s+'));
  if (phrases.length === 0) return () => false;
  // Whole words: "reagent" is not "agent", nor are compounds joined by a hyphen or an underscore
  // ("user-agent", "human‐like", "user_agent"), but a plural ("agents", "humans") still asks for one.
  // Scripts written without spaces (Chinese, Japanese, Thai) have no word edges: a phrase in them
  // matches anywhere ("我要人工客服" asks for 客服).
  const bounded = phrases.filter((phrase) => !UNSPACED.test(phrase));
  const anywhere = phrases.filter((phrase) => UNSPACED.test(phrase));
  const alternatives = [
    ...(bounded.length ? [`(?<!${WORD}${JOINER}?)(?:${bounded.join('|')})s?(?!${JOINER}?${WORD})`] : []),
    ...(anywhere.length ? [`(?:${anywhere.join('|')})`] : []),
  ];
  const pattern = new RegExp(alternatives.join('|'), 'iu');
  return (text) => pattern.test(foldForMatching(text).replace(WEB_ADDRESS, ' '));
}

/**
 * What case-insensitive matching does not fold, folded: one form for composed and decomposed
 * letters ("é" typed either way), and Turkish i's (İ, ı, and the i̇ that lower-casing İ gives)
 * as plain i, so "İnsan", "insan" and "INSAN" are one word whichever way the phrase was written.
 */
function foldForMatching(text: string): string {
  return text.normalize('NFC').replace(/[İı]|i\u0307/g, 'i');
}

function escapeRegExp(text: string): string {
  // Only syntax characters: the `u` flag refuses needless escapes.
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

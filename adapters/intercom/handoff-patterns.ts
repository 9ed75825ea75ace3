/**
 * "Can I talk to a human?": whole-word, case-insensitive matching of the configured phrases.
 * Phrases are escaped literals joined by flexible whitespace, so matching stays linear.
 */

/**
 * An address in the text is not the customer's words: a web address with or without its scheme
 * (https://x.com/agents, www.x.com/agents, help.example.com/human-resources) or an e-mail address
 * (human.resources@acme.com). Each alternative starts only where no address character precedes
 * it, so matching stays linear.
 */
const WEB_ADDRESS = /\bhttps?:\/\/\S+|\bwww\.\S+|(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+|(?<![\p{L}\p{N}.-])[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+\/\S*/giu;

/** A letter, a digit or an underscore: part of a word (`user_agent` is one). */
const WORD = '[\\p{L}\\p{N}_]';
/** What joins a compound: a hyphen (ASCII, U+2010, U+2011 non-breaking) or an underscore. */
const JOINER = '[-_\\u2010\\u2011]';
/** A phrase in a script written without spaces between words. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;

/** A test for handoff requests; never matches when there are no patterns. */
export function handoffMatcher(patterns: readonly string[]): (text: string) => boolean {
  const phrases = patterns
    .map((p) => p.trim())
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
  return (text) => pattern.test(text.replace(WEB_ADDRESS, ' '));
}

function escapeRegExp(text: string): string {
  // Only syntax characters: the `u` flag refuses needless escapes.
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

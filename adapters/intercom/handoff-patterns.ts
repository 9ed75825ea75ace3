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

/** A test for handoff requests; never matches when there are no patterns. */
export function handoffMatcher(patterns: readonly string[]): (text: string) => boolean {
  const phrases = patterns
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => p.split(/\s+/).map(escapeRegExp).join('\\s+'));
  if (phrases.length === 0) return () => false;
  // Whole words: "reagent" is not "agent", nor are hyphenated compounds ("user-agent",
  // "human-like"), but a plural ("agents", "humans") still asks for one.
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}]-?)(?:${phrases.join('|')})s?(?!-?[\\p{L}\\p{N}])`, 'iu');
  return (text) => pattern.test(text.replace(WEB_ADDRESS, ' '));
}

function escapeRegExp(text: string): string {
  // Only syntax characters: the `u` flag refuses needless escapes.
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

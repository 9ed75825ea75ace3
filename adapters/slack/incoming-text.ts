/**
 * Slack's message text as the model should read it. Slack sends its own markup (`<@U123>`,
 * `<#C123|general>`, `<!here>`, `<https://…|label>`) and escapes `&`, `<` and `>` as entities; a
 * model shown those verbatim reads `a &lt; b`, and writes the entities back, where the reply's
 * own escaping doubles them (`&amp;lt;`), and a link comes back with `&amp;` in its address.
 * Links become markdown (`[label](url)`), which the reply turns back into Slack's links.
 */
const MARKUP = /<([^<>]*)>/g;

export function readableText(text: string): string {
  // Most messages have neither markup nor entities: nothing to do on the ack path.
  if (!text.includes('<') && !text.includes('&')) return text;
  return decodeEntities(text.replace(MARKUP, (_, inside: string) => readable(inside)));
}

/** One `<…>`: a mention, a channel, a special mention, or a link with or without a label. */
function readable(inside: string): string {
  const bar = inside.indexOf('|');
  const target = bar === -1 ? inside : inside.slice(0, bar);
  const label = bar === -1 ? '' : inside.slice(bar + 1);
  if (target.startsWith('@')) return label ? `@${label.replace(/^@/, '')}` : target;
  if (target.startsWith('#')) return `#${label || target.slice(1)}`;
  // <!here>, <!channel>, <!everyone>, <!subteam^S123|@oncall>, <!date^…|fallback>
  if (target.startsWith('!')) return label || `@${target.slice(1).split('^')[0]}`;
  if (target.startsWith('mailto:')) return label || target.slice('mailto:'.length);
  if (!label || label === target) return target;
  // Escaped so that the link reads back as the same link: a label's brackets and emphasis marks,
  // and an address with parentheses or spaces in CommonMark's <…> form.
  const text = label.replace(/[\\[\]*_~`]/g, '\\$&');
  return `[${text}](${/[()\s]/.test(target) ? `<${target}>` : target})`;
}

function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * A message's text rebuilt from its `rich_text` blocks, for a message whose `text` is empty: Slack
 * does not require `text` of a message posted with blocks (chat.postMessage: "one of these
 * arguments is required"), so an app posting for a person with a user token may send none. The
 * result is Slack's own markup (`<@U123>`, `<#C123>`, `<url|label>`, `&lt;` for `<`), as `text`
 * would hold it, so the mention check, the mention's removal and readableText treat it alike.
 *
 * Read from Slack's JSON, not trusted: anything not shaped as documented is skipped. rich_text
 * nests to a fixed depth (block → section, list, quote or preformatted → elements; a list's items
 * are sections), so no recursion.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null;
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string => (typeof value === 'string' ? value : '');
/** Slack's escaping of its control characters: rich_text holds them raw, `text` escaped. */
const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The text of `blocks`' rich_text blocks in Slack's markup, one block's parts on lines of their own; '' without any. */
export function textOfRichTextBlocks(blocks: unknown): string {
  const lines: string[] = [];
  for (const block of list(blocks)) {
    if (!isObject(block) || block.type !== 'rich_text') continue;
    for (const part of list(block.elements)) {
      const text = isObject(part) ? partText(part) : '';
      if (text) lines.push(text);
    }
  }
  return lines.join('\n');
}

/** A section, list, quote or preformatted part; '' when it holds no text. */
function partText(part: Json): string {
  if (part.type === 'rich_text_list') {
    const indent = '  '.repeat(typeof part.indent === 'number' && part.indent > 0 ? Math.min(part.indent, 8) : 0);
    const first = typeof part.offset === 'number' && Number.isSafeInteger(part.offset) && part.offset > 0 ? part.offset + 1 : 1;
    const items = list(part.elements).map((item) => (isObject(item) ? inline(item.elements) : ''));
    return items.map((item, index) => (item ? `${indent}${part.style === 'ordered' ? `${first + index}.` : '-'} ${item}` : '')).filter(Boolean).join('\n');
  }
  const text = inline(part.elements);
  if (!text) return '';
  if (part.type === 'rich_text_section') return text;
  if (part.type === 'rich_text_preformatted') return `\`\`\`\n${text}\n\`\`\``;
  if (part.type === 'rich_text_quote') return text.split('\n').map((line) => `&gt; ${line}`).join('\n');
  return '';
}

/** A part's elements (text, links, mentions, emoji…) as Slack's markup. */
function inline(elements: unknown): string {
  let out = '';
  for (const element of list(elements)) if (isObject(element)) out += elementText(element);
  return out;
}

function elementText(element: Json): string {
  switch (element.type) {
    case 'text': {
      const text = escape(str(element.text));
      return isObject(element.style) && element.style.code === true && text ? `\`${text}\`` : text;
    }
    case 'link': {
      const url = str(element.url);
      const label = str(element.text);
      // A `|` in the address would end it early (in the label it cannot: the first `|` splits).
      return url ? `<${escape(url).replace(/\|/g, '%7C')}${label ? `|${escape(label)}` : ''}>` : escape(label);
    }
    case 'user':
      return typeof element.user_id === 'string' ? `<@${escape(element.user_id)}>` : '';
    case 'channel':
      return typeof element.channel_id === 'string' ? `<#${escape(element.channel_id)}>` : '';
    case 'usergroup':
      return typeof element.usergroup_id === 'string' ? `<!subteam^${escape(element.usergroup_id)}>` : '';
    case 'broadcast':
      return typeof element.range === 'string' ? `<!${escape(element.range)}>` : '';
    case 'emoji':
      return typeof element.name === 'string' ? `:${escape(element.name)}:` : '';
    case 'date':
      return escape(str(element.fallback));
    case 'color':
      return escape(str(element.value));
    default:
      return '';
  }
}

/* global document */
/**
 * An answer's markdown as DOM nodes: text nodes, a few elements, http(s)/mailto links. Nothing the
 * model wrote is ever parsed as HTML.
 */

/** An element holding `text` as text, never as HTML. */
export const el = (tag, text) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  return node;
};

/** A link target only if it is an absolute http(s) or mailto URL. */
function safeHref(raw) {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'mailto:' ? url.href : null;
  } catch {
    return null;
  }
}

function link(href, label) {
  const a = el('a');
  a.href = href;
  a.rel = 'noopener noreferrer';
  a.target = '_blank';
  if (label === undefined) a.textContent = href.replace(/^mailto:/, '');
  else inline(a, label, false);
  return a;
}

const INLINE = new RegExp(
  [
    '`([^`\\n]+)`', // 1: code
    '\\[([^\\[\\]\\n]+)\\]\\(\\s*([^\\s()]*(?:\\([^\\s()]*\\)[^\\s()]*)*)\\s*\\)', // 2: label, 3: target
    '\\*\\*(\\S(?:.*?\\S)?)\\*\\*', // 4: strong
    '\\b__(\\S(?:.*?\\S)?)__(?!\\w)', // 5: strong (not inside words: snake__case)
    '\\*([^\\s*](?:.*?[^\\s*])?)\\*', // 6: em
    '\\b_([^\\s_](?:.*?[^\\s_])?)_(?!\\w)', // 7: em
    '<((?:https?://|mailto:)[^\\s<>]+)>', // 8: <autolink>
    '(https?://[^\\s<>]*[^\\s<>.,;:!?\'")\\]*_])', // 9: a bare URL
  ].join('|'),
  'g',
);

/** One line of inline markdown appended to `parent`: only text nodes and known elements. */
function inline(parent, text, links = true) {
  const re = new RegExp(INLINE.source, 'g');
  let at = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [whole, code, label, target, strong1, strong2, em1, em2, auto, bare] = m;
    const linkLike = label !== undefined || auto !== undefined || bare !== undefined;
    if (linkLike && !links) {
      // No links inside a link's label: this stays text; look for emphasis inside it.
      re.lastIndex = m.index + 1;
      continue;
    }
    if (m.index > at) parent.append(text.slice(at, m.index));
    at = m.index + whole.length;
    if (code !== undefined) parent.append(el('code', code));
    else if (strong1 !== undefined || strong2 !== undefined) inline(parent.appendChild(el('strong')), strong1 ?? strong2, links);
    else if (em1 !== undefined || em2 !== undefined) inline(parent.appendChild(el('em')), em1 ?? em2, links);
    else {
      const href = safeHref(label !== undefined ? target : (auto ?? bare));
      // Anything but http(s) and mailto (javascript:, data:, relative paths) stays the text it was.
      if (!href) parent.append(whole);
      else parent.append(link(href, label));
    }
  }
  if (at < text.length) parent.append(text.slice(at));
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const ITEM = /^\s{0,6}(?:([-*+])|(\d{1,9})[.)])\s+(.*)$/;
const QUOTE = /^ {0,3}>\s?(.*)$/;
const startsBlock = (line) => FENCE.test(line) || HEADING.test(line) || RULE.test(line) || ITEM.test(line) || QUOTE.test(line);

/** Markdown as a fragment: paragraphs, fenced code, lists, quotes, rules, headings (as bold). */
export function markdown(text) {
  const frag = document.createDocumentFragment();
  const lines = String(text).replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const closing = new RegExp(`^ {0,3}${fence[1][0] === '`' ? '`' : '~'}{${fence[1].length},}\\s*$`);
      const body = [];
      for (i++; i < lines.length && !closing.test(lines[i]); i++) body.push(lines[i]);
      i++;
      const code = el('code', body.join('\n'));
      if (fence[2]) code.dataset.lang = fence[2];
      const pre = el('pre');
      pre.append(code);
      frag.append(pre);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const p = el('p');
      p.className = 'heading';
      inline(p.appendChild(el('strong')), heading[2]);
      frag.append(p);
      i++;
      continue;
    }
    if (RULE.test(line)) {
      frag.append(el('hr'));
      i++;
      continue;
    }
    const first = ITEM.exec(line);
    if (first) {
      const ordered = first[2] !== undefined;
      const list = el(ordered ? 'ol' : 'ul');
      if (ordered && Number(first[2]) !== 1) list.start = Number(first[2]);
      for (; i < lines.length; i++) {
        const item = ITEM.exec(lines[i]);
        if (item && (item[2] !== undefined) === ordered) {
          inline(list.appendChild(el('li')), item[3]);
        } else if (!item && lines[i].trim() && /^\s{2,}\S/.test(lines[i]) && list.lastChild) {
          // an indented line continues the item above
          list.lastChild.append(el('br'));
          inline(list.lastChild, lines[i].trim());
        } else break;
      }
      frag.append(list);
      continue;
    }
    if (QUOTE.test(line)) {
      const quote = el('blockquote');
      for (; i < lines.length && QUOTE.test(lines[i]); i++) {
        if (quote.childNodes.length) quote.append(el('br'));
        inline(quote, QUOTE.exec(lines[i])[1]);
      }
      frag.append(quote);
      continue;
    }
    const p = el('p');
    for (; i < lines.length && lines[i].trim() && (p.childNodes.length === 0 || !startsBlock(lines[i])); i++) {
      if (p.childNodes.length) p.append(el('br'));
      inline(p, lines[i]);
    }
    frag.append(p);
  }
  return frag;
}

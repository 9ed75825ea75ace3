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

/**
 * A letter or digit of a script that spaces its words: `*` next to one is inside a word. Chinese,
 * Japanese and Thai put no space between words, so `これは*注意*して` is italics.
 */
const WORD_CHAR = String.raw`(?:(?![\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Thai}])[\p{L}\p{N}])`;

/**
 * The inline forms, tried in this order where one may start (the first that matches wins). A
 * span's `closer` matches wherever it can end, whatever its opener: past a line's last closer the
 * span is not tried, as each try would scan to the end of the line (`**a **a …` was quadratic).
 */
const FORMS = [
  { kind: 'code', re: /`([^`\n]+)`/y },
  // A backslash-escaped mark is that mark as text (`\*not italic\*`), the backslash not shown.
  { kind: 'escape', re: /\\([!-/:-@[-`{-~])/y },
  // `\((?=(\s*))\2`: the blanks after `(` taken at once (`\s*` then `\s*` retried every split of them).
  // An image's `!` is part of it: the image is shown as a link to it.
  { kind: 'link', re: /!?\[([^[\]\n]+)\]\((?=(\s*))\2([^\s()]*(?:\([^\s()]*\)[^\s()]*)*)\s*\)/y },
  { kind: 'strong-em', re: /\*\*\*([^\s*](?:.*?[^\s*])??)\*\*\*/y, closer: /(?<=[^\s*])\*\*\*/g },
  { kind: 'strong', re: /\*\*(\S(?:.*?\S)??)\*\*/y, closer: /(?<=\S)\*\*/g },
  { kind: 'strong', re: /\b__(\S(?:.*?\S)??)__(?!\w)/y, closer: /(?<=\S)__(?!\w)/g }, // not inside words: snake__case
  // Not inside a word or number either: `2*3*4` and `x*y + y*z` are arithmetic, not italics.
  { kind: 'em', re: new RegExp(String.raw`(?<!${WORD_CHAR})\*([^\s*](?:.*?[^\s*])??)\*(?!${WORD_CHAR})`, 'uy'), closer: new RegExp(String.raw`(?<=[^\s*])\*(?!${WORD_CHAR})`, 'gu') },
  { kind: 'em', re: /\b_([^\s_](?:.*?[^\s_])??)_(?!\w)/y, closer: /(?<=[^\s_])_(?!\w)/g },
  { kind: 'del', re: /~~(\S(?:.*?\S)??)~~/y, closer: /(?<=\S)~~/g },
  { kind: 'auto', re: /<((?:https?:\/\/|mailto:)[^\s<>]+)>/y },
  // A URL's balanced parentheses are part of it (`…/Markdown_(software)`); one it closes is not.
  { kind: 'bare', re: /(https?:\/\/(?:[^\s<>()]|\([^\s<>()]*\))*(?:[^\s<>.,;:!?'"()\]*_~]|\([^\s<>()]*\)))/y },
];
/** Where a form may start: anything else is text. */
const FORM_START = /[`\\![*_~<h]/g;
const LINK_LIKE = new Set(['link', 'auto', 'bare']);

/** Per line of `text` (a span's `.` stops at a line break): its end, and where each form's last closer ends. */
function spanEnds(text) {
  const lines = [];
  const breaks = /[\n\r\u2028\u2029]|$/g;
  for (let from = 0, m = breaks.exec(text); m; from = m.index + 1, m = from > text.length ? null : breaks.exec(text)) {
    const line = text.slice(from, m.index);
    lines.push({ end: m.index, cuts: FORMS.map((form) => (form.closer ? from + lastCloserEnd(line, form.closer) : Infinity)) });
  }
  return lines;
}

/** Where the line's last closer of `closer` ends (0 without one); closers may overlap. */
function lastCloserEnd(text, closer) {
  let end = 0;
  closer.lastIndex = 0;
  for (let found = closer.exec(text); found; found = closer.exec(text)) {
    end = Math.max(end, found.index + found[0].length);
    closer.lastIndex = found.index + 1;
  }
  return end;
}

/** The first form matching at `at`, or null. No links inside a link's label (`links` false). */
function formAt(text, at, links, cuts) {
  for (const [i, form] of FORMS.entries()) {
    if ((!links && LINK_LIKE.has(form.kind)) || at >= cuts[i]) continue;
    form.re.lastIndex = at;
    const m = form.re.exec(text);
    if (m) return { form, m };
  }
  return null;
}

/** One line of inline markdown appended to `parent`: only text nodes and known elements. */
function inline(parent, text, links = true) {
  const lines = spanEnds(text);
  const starts = new RegExp(FORM_START.source, 'g');
  let at = 0;
  let line = 0;
  for (let s = starts.exec(text); s; s = starts.exec(text)) {
    while (lines[line].end < s.index) line++;
    const found = formAt(text, s.index, links, lines[line].cuts);
    if (!found) continue;
    const { form, m } = found;
    if (s.index > at) parent.append(text.slice(at, s.index));
    at = s.index + m[0].length;
    starts.lastIndex = at;
    if (form.kind === 'code') parent.append(el('code', m[1]));
    else if (form.kind === 'escape') parent.append(m[1]);
    else if (form.kind === 'strong-em') inline(parent.appendChild(el('strong')).appendChild(el('em')), m[1], links);
    else if (form.kind === 'strong' || form.kind === 'em' || form.kind === 'del') inline(parent.appendChild(el(form.kind)), m[1], links);
    else {
      const href = safeHref(form.kind === 'link' ? m[3] : m[1]);
      // Anything but http(s) and mailto (javascript:, data:, relative paths) stays the text it was.
      if (!href) parent.append(m[0]);
      else parent.append(link(href, form.kind === 'link' ? m[1] : undefined));
    }
  }
  if (at < text.length) parent.append(text.slice(at));
}

// No backtick after the fence, checked once: `\s*`, the language and `[^`]*` retried every split of a long line.
// Indented any depth: a list item's code block is indented to the item's text (`   ```bash` under `1. `).
const FENCE = /^([ \t]*)(`{3,}(?!`)|~{3,}(?!~))(?![^`]*`)\s*([\w+#.-]*)[^`]*$/;
// The title ends in a non-blank (or is empty): a lazy `(.*?)` retried the tail at every blank of a long run.
// `(?=(\s+))\2`: the blanks after the `#`s taken at once.
const HEADING = /^ {0,3}(#{1,6})(?=(\s+))\2((?:.*?\S)?)(?:\s+#+)?\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const ITEM = /^\s{0,6}(?:([-*+])|(\d{1,9})[.)])(?=(\s+))\3(.*)$/; // blanks at once, as in HEADING
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
      // Closed by a fence indented at most 3 more than this one.
      const closing = new RegExp(`^[ \\t]{0,${fence[1].length + 3}}${fence[2][0] === '`' ? '`' : '~'}{${fence[2].length},}\\s*$`);
      // The code's lines lose the fence's indentation, as much of it as they have.
      const indent = new RegExp(`^[ \\t]{0,${fence[1].length}}`);
      const body = [];
      for (i++; i < lines.length && !closing.test(lines[i]); i++) body.push(lines[i].replace(indent, ''));
      i++;
      const code = el('code', body.join('\n'));
      if (fence[3]) code.dataset.lang = fence[3];
      const pre = el('pre');
      pre.append(code);
      frag.append(pre);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const p = el('p');
      p.className = 'heading';
      inline(p.appendChild(el('strong')), heading[3]);
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
        if (FENCE.test(lines[i])) break; // a code block in an item: shown after the list, not as its text
        if (item && (item[2] !== undefined) === ordered) {
          inline(list.appendChild(el('li')), item[4]);
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

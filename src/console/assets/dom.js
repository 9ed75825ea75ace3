/* global document */
/**
 * Building the page's nodes. Text is always set as text (never HTML): what the API returns holds
 * whatever people wrote.
 */

const SVG = 'http://www.w3.org/2000/svg';

export const $ = (id) => document.getElementById(id);

/**
 * Direction controls (U+202A–202E, U+2066–2069, U+200E, U+200F, U+061C) would let whoever wrote a
 * message change how it reads to an operator ("0001$" shown as "$1000", "txt.exe" as "exe.txt"):
 * they are shown as their code points instead.
 */
const DIRECTION_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;
export const shown = (text) => (text == null ? '' : String(text)).replace(DIRECTION_CONTROLS, (c) => `⟨U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);

/** An element with text (never HTML) and attributes; `children` are nodes or strings. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = shown(value);
    else if (name === 'className') node.className = value;
    else if (name === 'testid') node.setAttribute('data-testid', value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(shown(child)) : child);
  }
  return node;
}

export function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

export function setText(node, text) {
  const value = shown(text);
  if (node && node.textContent !== value) node.textContent = value;
}

/**
 * "Show more" (`button`) adds rows by `load()`. Pressed by keyboard and gone once they are listed (none
 * left out, or the most listed), it hands the focus to what `focusIn(firstAddedRow)` names (the row
 * itself, or a button in it), else to `heading`: not to the top of the page.
 */
export async function showMoreKeepingFocus(button, rows, load, heading, focusIn = (row) => row) {
  const pressed = document.activeElement === button;
  const listed = rows().length;
  await load();
  if (!pressed || !button.hidden || (document.activeElement !== button && document.activeElement !== document.body)) return;
  const added = rows()[listed];
  ((added && focusIn(added)) ?? heading).focus();
}

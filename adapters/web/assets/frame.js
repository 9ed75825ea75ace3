/* global document, window, location, URLSearchParams, CSS */
/**
 * The frame a website opens through widget.js: the title and colour the website asked for in the
 * query string (?title=, ?color=), its close button, and the focus in the message box on opening.
 */

const $ = (id) => document.getElementById(id);

/** The frame as the widget asked for it: its title, its colour, a close button that works. */
export function dressFrame() {
  const params = new URLSearchParams(location.search);
  const title = (params.get('title') || '').trim().slice(0, 80);
  if (title) {
    $('title').textContent = title;
    document.title = title;
  }
  const color = cssColor(params.get('color'));
  if (color) {
    // CSSOM, not a style attribute: allowed under the page's CSP (style-src 'self').
    document.documentElement.style.setProperty('--user', color);
    document.documentElement.style.setProperty('--focus', color);
    const fg = textOn(color);
    if (fg) document.documentElement.style.setProperty('--user-fg', fg);
  }
  const close = $('close');
  if (close) {
    if (window.parent === window) close.hidden = true;
    else {
      // When the visitor opens the chat, the widget asks for the focus ("focus"): the keyboard goes in
      // the message box. On a touch screen it goes to the close button instead: in the message box
      // it would pop the keyboard up. Never by itself: a site's own parleyWidget.open() keeps its focus.
      const focusStart = () => (window.matchMedia('(pointer: coarse)').matches ? close : $('input')).focus();
      window.addEventListener('message', (event) => {
        if (event.source === window.parent && event.data && event.data.parley === 'focus') focusStart();
      });
      // Only "close" travels to the embedding page: nothing of the chat.
      const askToClose = () => window.parent.postMessage({ parley: 'close' }, '*');
      close.addEventListener('click', askToClose);
      document.addEventListener('keydown', (event) => {
        if (event.key === 'Escape' && !document.querySelector('dialog[open]')) askToClose();
      });
    }
  }
}

/** A colour from the query string, if it is a plain CSS colour (hex, rgb(), hsl() or a name). */
function cssColor(value) {
  const text = String(value || '').trim();
  if (!/^(#[0-9a-f]{3,8}|[a-z]{3,30}|(rgb|hsl)a?\([0-9.,%\s/]+\))$/i.test(text)) return null;
  return typeof CSS !== 'undefined' && CSS.supports && !CSS.supports('color', text) ? null : text;
}

/** Black or white, whichever reads better on the colour (any CSS form: hex, rgb(), hsl() or a name). */
function textOn(color) {
  // A canvas reads any CSS colour back as #rrggbb (or rgba(…) when see-through).
  const ctx = document.createElement('canvas').getContext('2d');
  if (!ctx) return null;
  ctx.fillStyle = color;
  const value = String(ctx.fillStyle);
  const rgb = value.startsWith('#') ? [1, 3, 5].map((i) => parseInt(value.slice(i, i + 2), 16)) : (value.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
  if (rgb.length !== 3) return null;
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  // The higher contrast (WCAG): #111111 (luminance 0.0056) beats white above a luminance of 0.1917.
  return luminance > 0.1917 ? '#111111' : '#ffffff';
}

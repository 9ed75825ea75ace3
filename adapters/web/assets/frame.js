/* global document, window, location, URLSearchParams, CSS, getComputedStyle */
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
    const fg = textOn(color);
    if (fg) document.documentElement.style.setProperty('--user-fg', fg);
    focusIn(color);
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

/**
 * The focus ring in the site's colour where it stands out (3:1, WCAG 1.4.11) on the chat's own
 * backgrounds (--panel, --bg) in the theme on show; else the theme's own ring (a gold or a navy
 * ring is all but invisible on white or on the dark theme). Again when the theme changes.
 */
function focusIn(color) {
  const root = document.documentElement;
  const fit = () => {
    root.style.removeProperty('--focus');
    const theme = getComputedStyle(root);
    const own = luminanceOf(color);
    const backgrounds = ['--panel', '--bg'].map((name) => luminanceOf(theme.getPropertyValue(name).trim()));
    if (own !== null && backgrounds.every((back) => back !== null && contrast(own, back) >= 3)) root.style.setProperty('--focus', color);
  };
  fit();
  const dark = window.matchMedia('(prefers-color-scheme: dark)');
  if (dark.addEventListener) dark.addEventListener('change', fit);
}

const contrast = (a, b) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);

/** A CSS colour's relative luminance (WCAG), or null when it cannot be read. */
function luminanceOf(color) {
  // A canvas reads any CSS colour back as #rrggbb (or rgba(…) when see-through).
  const ctx = document.createElement('canvas').getContext('2d');
  if (!ctx || !color) return null;
  ctx.fillStyle = color;
  const value = String(ctx.fillStyle);
  const rgb = value.startsWith('#') ? [1, 3, 5].map((i) => parseInt(value.slice(i, i + 2), 16)) : (value.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
  if (rgb.length !== 3) return null;
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Black or white, whichever reads better on the colour (any CSS form: hex, rgb(), hsl() or a name). */
function textOn(color) {
  const luminance = luminanceOf(color);
  if (luminance === null) return null;
  // The higher contrast (WCAG): #111111 (luminance 0.0056) beats white above a luminance of 0.1917.
  return luminance > 0.1917 ? '#111111' : '#ffffff';
}

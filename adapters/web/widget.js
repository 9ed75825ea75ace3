/* global document, window, CSS, URLSearchParams */
/**
 * parley's chat widget for any website: one tag adds a chat bubble at the bottom right, and the
 * bubble opens the chat in an iframe served by parley (/web/frame).
 *
 *   <script src="https://bot.example.com/web/widget.js" data-parley-url="https://bot.example.com"
 *           data-title="Help" data-color="#0a7" async></script>
 *
 * The chat itself runs inside the iframe, on parley's origin: the website's page never sees the
 * conversation. Styles are set through the CSSOM in a shadow root, so the site's CSS does not leak
 * in and a strict CSP on the site (no inline styles) does not break the bubble. The only global is
 * window.parleyWidget: { open(), close(), toggle() }.
 */
(() => {
  'use strict';
  if (window.parleyWidget) return;

  const script = document.currentScript;
  if (!script) return;
  const data = script.dataset;
  let base;
  try {
    base = new URL(data.parleyUrl || script.src, script.src || window.location.href);
  } catch {
    return;
  }
  // data-parley-url may be the server's root or a path it is mounted under: the frame is below it.
  const root = data.parleyUrl ? base.href.replace(/\/*$/, '/') : new URL('../', base).href;
  const title = (data.title || 'Chat').trim().slice(0, 80) || 'Chat';
  const color = validColor(data.color) || '#2563eb';
  const frameUrl = `${root}web/frame?${new URLSearchParams({ title, color })}`;
  const frameOrigin = new URL(root).origin;

  function validColor(value) {
    const text = String(value || '').trim();
    if (!/^(#[0-9a-f]{3,8}|[a-z]{3,30}|(rgb|hsl)a?\([0-9.,%\s/]+\))$/i.test(text)) return null;
    return typeof CSS !== 'undefined' && CSS.supports && !CSS.supports('color', text) ? null : text;
  }

  /** Black or white, whichever reads better on the colour (any CSS form: hex, rgb(), hsl() or a name). */
  function textOn(value) {
    // A canvas reads any CSS colour back as #rrggbb (or rgba(…) when see-through).
    const ctx = document.createElement('canvas').getContext('2d');
    if (!ctx) return '#ffffff';
    ctx.fillStyle = value;
    const read = String(ctx.fillStyle);
    const rgb = read.startsWith('#') ? [1, 3, 5].map((i) => parseInt(read.slice(i, i + 2), 16)) : (read.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
    if (rgb.length !== 3) return '#ffffff';
    const [r, g, b] = rgb.map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    // The higher contrast (WCAG): #111111 (luminance 0.0056) beats white above a luminance of 0.1917.
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.1917 ? '#111111' : '#ffffff';
  }

  const style = (node, props) => {
    for (const [name, value] of Object.entries(props)) node.style.setProperty(name, value);
    return node;
  };

  const host = style(document.createElement('div'), { position: 'fixed', 'z-index': '2147483000', right: '0', bottom: '0', width: '0', height: '0' });
  host.setAttribute('data-parley-widget', '');
  const shadow = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;

  const bubble = style(document.createElement('button'), {
    position: 'fixed',
    right: '20px',
    bottom: '20px',
    width: '56px',
    height: '56px',
    margin: '0',
    padding: '0',
    border: '0',
    'border-radius': '50%',
    background: color,
    color: textOn(color),
    cursor: 'pointer',
    display: 'flex',
    'align-items': 'center',
    'justify-content': 'center',
    'box-shadow': '0 4px 14px rgba(0, 0, 0, .25)',
  });
  bubble.type = 'button';
  bubble.setAttribute('aria-label', `Open the chat: ${title}`);
  bubble.setAttribute('aria-expanded', 'false');
  bubble.setAttribute('data-parley', 'bubble');
  bubble.title = title;
  bubble.append(icon('chat'));

  const frame = style(document.createElement('iframe'), {
    position: 'fixed',
    right: '20px',
    bottom: '88px',
    width: '380px',
    height: 'min(600px, calc(100vh - 108px))',
    'max-width': 'calc(100vw - 24px)',
    border: '0',
    'border-radius': '12px',
    'box-shadow': '0 8px 30px rgba(0, 0, 0, .25)',
    background: '#ffffff',
    display: 'none',
  });
  frame.title = title;
  frame.id = 'parley-chat';
  frame.setAttribute('data-parley', 'frame');
  frame.setAttribute('referrerpolicy', 'no-referrer');

  shadow.append(bubble);

  // Narrow screens: the chat takes the width, above the bubble.
  const narrow = window.matchMedia('(max-width: 480px)');
  const fit = () => {
    style(frame, narrow.matches
      ? { right: '12px', bottom: '80px', width: 'calc(100vw - 24px)', height: 'calc(100vh - 92px)' }
      : { right: '20px', bottom: '88px', width: '380px', height: 'min(600px, calc(100vh - 108px))' });
    style(bubble, narrow.matches ? { right: '12px', bottom: '12px' } : { right: '20px', bottom: '20px' });
  };
  if (narrow.addEventListener) narrow.addEventListener('change', fit);
  fit();

  let open = false;
  let frameLoaded = false;
  /** The visitor opened the chat before its frame had loaded: the keyboard goes in once it has. */
  let focusOnLoad = false;
  frame.addEventListener('load', () => {
    frameLoaded = true;
    if (focusOnLoad && open) frame.contentWindow.postMessage({ parley: 'focus' }, frameOrigin);
    focusOnLoad = false;
  });
  /**
   * `focus`: the visitor opened it (the bubble): the keyboard goes into the chat. The site's own
   * parleyWidget.open() leaves the focus where it is (a login field the page focused, say).
   */
  function setOpen(next, focus = false) {
    // Focus in the chat as it closes goes back to the bubble, not to the top of the page.
    const focusInside = (shadow.activeElement || document.activeElement) === frame;
    const opening = next && !open;
    open = next;
    // The frame is made on the first open: a page view alone loads nothing and starts no session.
    if (open && !frame.src) {
      frame.src = frameUrl;
      shadow.insertBefore(frame, bubble);
      bubble.setAttribute('aria-controls', frame.id);
    }
    frame.style.setProperty('display', open ? 'block' : 'none');
    bubble.setAttribute('aria-expanded', String(open));
    bubble.setAttribute('aria-label', open ? `Close the chat: ${title}` : `Open the chat: ${title}`);
    bubble.replaceChildren(icon(open ? 'close' : 'chat'));
    if (opening && focus) {
      // Into the chat: the frame puts the keyboard in its message box, asked once it has loaded.
      frame.focus();
      if (frameLoaded) frame.contentWindow.postMessage({ parley: 'focus' }, frameOrigin);
      else focusOnLoad = true;
    } else if (!open && focusInside) bubble.focus();
  }

  bubble.addEventListener('click', () => setOpen(!open, true));
  document.addEventListener('keydown', (event) => {
    if (open && event.key === 'Escape') setOpen(false);
  });
  // The frame's own close button asks through postMessage; only that frame is listened to.
  window.addEventListener('message', (event) => {
    if (event.source === frame.contentWindow && event.origin === frameOrigin && event.data && event.data.parley === 'close') {
      setOpen(false);
      bubble.focus();
    }
  });

  function icon(kind) {
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '26');
    svg.setAttribute('height', '26');
    svg.setAttribute('aria-hidden', 'true');
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('fill', kind === 'close' ? 'none' : 'currentColor');
    path.setAttribute('stroke', kind === 'close' ? 'currentColor' : 'none');
    path.setAttribute('stroke-width', '2.4');
    path.setAttribute('stroke-linecap', 'round');
    path.setAttribute('d', kind === 'close' ? 'M6 6l12 12M18 6L6 18' : 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z');
    svg.append(path);
    return svg;
  }

  const attach = () => document.body.append(host);
  if (document.body) attach();
  else document.addEventListener('DOMContentLoaded', attach);

  window.parleyWidget = Object.freeze({
    open: () => setOpen(true),
    close: () => setOpen(false),
    toggle: () => setOpen(!open),
  });
})();

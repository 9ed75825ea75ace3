/* global document, window, location, fetch, EventSource, sessionStorage, URLSearchParams, CSS */
/**
 * The web chat's client, shared by the full page (/) and the frame a website embeds through
 * widget.js (/web/frame). Plain DOM, no framework, no build step.
 *
 * - A visitor session first (POST /web/sessions): the bearer token is held in memory and renewed
 *   before it expires. The page also gets the session cookie; the frame, often a third party on
 *   the website, keeps its token in sessionStorage instead, so a reload continues the same chat.
 * - The server mints the conversation id on the first message; it is kept in sessionStorage.
 * - The transcript streams over EventSource (the session's streamToken in ?session=, EventSource
 *   sends no headers; the server takes that token for event streams only).
 * - Answers are markdown built from DOM nodes (text nodes, a few elements, http(s)/mailto links);
 *   nothing the model wrote is ever parsed as HTML.
 */
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const FRAME = document.body.classList.contains('frame');
  // The API is served next to this script's folder: <base>web/assets/chat.js.
  const SCRIPT = document.currentScript && document.currentScript.src;
  const BASE = SCRIPT ? SCRIPT.replace(/web\/assets\/chat\.js(?:[?#].*)?$/, '') : `${location.origin}/`;
  const CONVERSATION_KEY = 'parley.conversation';
  const SESSION_KEY = 'parley.session';
  /** Renew the session this long before it expires. */
  const RENEW_BEFORE_MS = 5 * 60 * 1000;

  const messagesEl = $('messages');
  const input = $('input');
  const sendBtn = $('send');
  const deleteBtn = $('delete');
  const statusEl = $('status');
  const thinkingEl = $('thinking');
  const confirmDialog = $('confirm-delete');

  const storage = {
    get(key) {
      try { return sessionStorage.getItem(key); } catch { return null; }
    },
    set(key, value) {
      try {
        if (value === null) sessionStorage.removeItem(key);
        else sessionStorage.setItem(key, value);
      } catch { /* storage unavailable (blocked in some third-party frames): memory only */ }
    },
  };

  // ------------------------------------------------------------------ the frame's title and colour

  if (FRAME) {
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
      // Only "close" travels to the embedding page: nothing of the chat.
      else {
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

  /** Black or white, whichever reads better on a hex colour (other forms keep the default). */
  function textOn(color) {
    let hex = color.startsWith('#') ? color.slice(1) : '';
    if (hex.length === 3 || hex.length === 4) hex = [...hex.slice(0, 3)].map((c) => c + c).join('');
    if (hex.length !== 6 && hex.length !== 8) return null;
    const [r, g, b] = [0, 2, 4].map((i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    return luminance > 0.4 ? '#111111' : '#ffffff';
  }

  // ------------------------------------------------------------------ markdown, as DOM nodes

  const el = (tag, text) => {
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
  function markdown(text) {
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

  // ------------------------------------------------------------------ state

  let session = null; // { token, streamToken, expiresAt (ms), visitor }
  let sessionStarting = null; // the POST /web/sessions in flight
  let renewTimer = 0;
  let conversation = storage.get(CONVERSATION_KEY);
  let generation = 0; // bumped whenever the shown conversation changes; stale answers are dropped
  let source = null;
  let reconnectTimer = 0;
  let reconnectDelay = 1000;
  let lastSig = '';
  let assistantCount = 0;
  let thinkingBaseline = -1;
  let thinkingTimer = 0;

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  const readJson = (res) => res.json().catch(() => null);

  /** What to tell the visitor about a refused request. */
  function problem(res, body) {
    const message = body && body.error && body.error.message;
    if (res.status === 429) {
      const seconds = Number(res.headers.get('retry-after'));
      const wait = seconds > 0 ? `${Math.ceil(seconds)} second${Math.ceil(seconds) === 1 ? '' : 's'}` : 'a moment';
      return `Too many requests: please wait ${wait} and try again.`;
    }
    if (res.status === 413) return message || 'That message is too long.';
    return message || `Something went wrong (HTTP ${res.status}).`;
  }

  /** `connection`: trouble reaching the server, which the next sign of the server clears. */
  function setStatus(text, isError, connection) {
    statusEl.textContent = text || '';
    statusEl.className = isError ? 'error' : '';
    statusEl.dataset.trouble = connection ? 'connection' : '';
  }

  /** The server answered: a connection problem on show is over. Any other message (a refused rating) stays. */
  function connectionBack() {
    if (statusEl.dataset.trouble === 'connection') setStatus('');
  }

  // ------------------------------------------------------------------ the visitor session

  /** When a token expires, from its own text (v1.<visitor>.<expiresAtMs>.<mac>). */
  const tokenExpiry = (token) => Number(String(token || '').split('.')[2]) || 0;

  function startSession() {
    sessionStarting ??= (async () => {
      const held = session ? session.token : FRAME ? storage.get(SESSION_KEY) : null;
      const renewing = held && tokenExpiry(held) > Date.now() + 5000;
      const request = (withToken) =>
        fetch(`${BASE}web/sessions`, {
          method: 'POST',
          headers: withToken ? { authorization: `Bearer ${held}` } : {},
          credentials: 'same-origin',
          cache: 'no-store',
        });
      let res = await request(renewing);
      // A token the server no longer takes (its secret changed): start over as a new visitor.
      if (res.status === 401 && renewing) res = await request(false);
      const body = await readJson(res);
      if (!res.ok || !body || typeof body.token !== 'string') throw new ApiError(res.status, problem(res, body));
      session = { token: body.token, streamToken: body.streamToken, expiresAt: Date.parse(body.expiresAt) || tokenExpiry(body.token), visitor: body.visitor };
      if (FRAME) storage.set(SESSION_KEY, session.token);
      scheduleRenewal();
      return session;
    })().finally(() => {
      sessionStarting = null;
    });
    return sessionStarting;
  }

  function scheduleRenewal() {
    clearTimeout(renewTimer);
    const left = session.expiresAt - Date.now();
    const delay = Math.min(Math.max(left - RENEW_BEFORE_MS, left * 0.8, 5000), 2 ** 31 - 1);
    renewTimer = setTimeout(() => startSession().catch(() => setStatus('Cannot renew the chat session — retrying…', true, true)), delay);
  }

  /** The current session, renewed first when it is (nearly) expired (a laptop that slept). */
  async function currentSession() {
    if (session && session.expiresAt - Date.now() > 30_000) return session;
    return startSession();
  }

  /** A call to the chat API with the session's bearer token; a 401 renews the session once. */
  async function api(method, path, body, retried = false) {
    const { token } = await currentSession();
    const headers = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    if (res.status === 401 && !retried) {
      session = null;
      return api(method, path, body, true);
    }
    return res;
  }

  // ------------------------------------------------------------------ the transcript

  function render(list) {
    list = Array.isArray(list) ? list : [];
    const sig = JSON.stringify(list);
    if (sig === lastSig) return;
    lastSig = sig;
    const nearBottom = messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 80;
    const frag = document.createDocumentFragment();
    let assistants = 0;
    for (const m of list) {
      const role = m && m.role === 'user' ? 'user' : 'assistant';
      if (role === 'assistant') assistants++;
      const node = el('div');
      const kind = m && (m.kind === 'notice' || m.kind === 'apology') ? m.kind : '';
      node.className = `msg ${role}${kind ? ` ${kind}` : ''}`;
      node.dataset.role = role;
      if (m && typeof m.kind === 'string') node.dataset.kind = m.kind;
      const at = m && m.at ? new Date(m.at) : null;
      if (at && !Number.isNaN(at.getTime())) node.title = at.toLocaleString();
      const text = m && m.text != null ? String(m.text) : '';
      // The visitor's own words as typed; the assistant's as markdown.
      if (role === 'user') node.textContent = text;
      else node.append(markdown(text));
      // An answer can be rated: 👍/👎 (POST /web/feedback), a 👎 with a reason.
      if (role === 'assistant' && m.kind === 'answer' && typeof m.exchange === 'string' && m.exchange) node.append(feedbackBar(m.exchange));
      frag.append(node);
    }
    if (!list.length) {
      const empty = el('p', 'Say hello to start the conversation.');
      empty.className = 'empty';
      frag.append(empty);
    }
    const typing = reasonInFocus();
    messagesEl.replaceChildren(frag);
    if (typing) focusReason(typing);
    assistantCount = assistants;
    const follow = nearBottom || thinkingBaseline >= 0 || list.length <= 1;
    if (thinkingBaseline >= 0 && assistants > thinkingBaseline) stopThinking();
    if (follow) messagesEl.scrollTop = messagesEl.scrollHeight;
  }

  // ------------------------------------------------------------------ feedback on answers

  /** What the visitor said of each answer, by exchange: { rating: 'good'|'bad', asking (a 👎's reason form is open), sent, draft }. */
  const ratings = new Map();

  /** The exchange whose reason box has the focus, if any (a re-render keeps it there). */
  function reasonInFocus() {
    const active = document.activeElement;
    const bar = active && active.classList && active.classList.contains('reason') ? active.closest('.feedback') : null;
    return bar ? bar.dataset.exchange : '';
  }

  function focusReason(exchange) {
    for (const bar of messagesEl.querySelectorAll('.feedback')) {
      const box = bar.dataset.exchange === exchange && bar.querySelector('textarea.reason');
      if (box) box.focus();
    }
  }

  /** 👍/👎 under an answer; after a 👎, a short form asking why. */
  function feedbackBar(exchange) {
    const state = ratings.get(exchange) || {};
    const bar = el('div');
    bar.className = 'feedback';
    bar.dataset.exchange = exchange;
    const buttons = el('div');
    buttons.className = 'rate';
    for (const [rating, label, face] of [['good', 'Good answer', '👍'], ['bad', 'Bad answer', '👎']]) {
      const button = el('button', face);
      button.type = 'button';
      button.className = `rate-${rating}`;
      button.title = label;
      button.setAttribute('aria-label', label);
      button.setAttribute('aria-pressed', String(state.rating === rating));
      button.addEventListener('click', () => rate(exchange, rating));
      buttons.append(button);
    }
    bar.append(buttons);
    if (state.asking) bar.append(reasonForm(exchange, state));
    else if (state.rating) {
      const thanks = el('span', state.sent ? 'Thanks — we will look into it.' : 'Thanks for the feedback.');
      thanks.className = 'thanks';
      bar.append(thanks);
    }
    return bar;
  }

  function reasonForm(exchange, state) {
    const form = el('form');
    const box = el('textarea');
    box.className = 'reason';
    box.rows = 2;
    box.maxLength = 1000;
    box.placeholder = 'What was wrong with this answer? (optional)';
    box.setAttribute('aria-label', 'What was wrong with this answer?');
    box.value = state.draft || '';
    box.addEventListener('input', () => {
      state.draft = box.value;
    });
    const send = el('button', 'Send');
    send.type = 'submit';
    const skip = el('button', 'Skip');
    skip.type = 'button';
    skip.addEventListener('click', () => {
      ratings.set(exchange, { rating: 'bad' });
      updateBar(exchange);
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const reason = box.value.trim();
      if (reason) rate(exchange, 'bad', reason);
      else skip.click();
    });
    const row = el('div');
    row.className = 'buttons';
    row.append(skip, send);
    form.append(box, row);
    return form;
  }

  function updateBar(exchange) {
    for (const bar of messagesEl.querySelectorAll('.feedback')) {
      if (bar.dataset.exchange === exchange) bar.replaceWith(feedbackBar(exchange));
    }
  }

  /** Send a rating (with a 👎's reason, its second step); on failure the previous state comes back. */
  async function rate(exchange, rating, reason) {
    const id = conversation;
    if (!id) return;
    const previous = ratings.get(exchange);
    ratings.set(exchange, reason ? { rating, sent: true } : { rating, asking: rating === 'bad', draft: previous && previous.draft });
    updateBar(exchange);
    if (!reason && rating === 'bad') focusReason(exchange);
    const undo = (message) => {
      if (previous) ratings.set(exchange, previous);
      else ratings.delete(exchange);
      updateBar(exchange);
      setStatus(message, true);
    };
    try {
      const res = await api('POST', 'web/feedback', reason ? { conversation: id, exchange, rating, reason } : { conversation: id, exchange, rating });
      if (!res.ok) undo(problem(res, await readJson(res)));
    } catch {
      undo('Cannot reach the server. Your rating was not sent.');
    }
  }

  function startThinking() {
    thinkingBaseline = assistantCount;
    thinkingEl.hidden = false;
    clearTimeout(thinkingTimer);
    thinkingTimer = setTimeout(stopThinking, 60_000);
    messagesEl.scrollTop = messagesEl.scrollHeight;
  }

  function stopThinking() {
    thinkingBaseline = -1;
    thinkingEl.hidden = true;
    clearTimeout(thinkingTimer);
  }

  const conversationPath = (id) => `web/conversations/${encodeURIComponent(id)}`;

  /** Read the transcript once; false when the conversation is gone (or never was this visitor's). */
  async function fetchTranscript() {
    const gen = generation;
    const id = conversation;
    if (!id) return true;
    try {
      const res = await api('GET', conversationPath(id));
      const body = await readJson(res);
      if (gen !== generation) return true;
      if (res.status === 404) {
        showConversation(null);
        setStatus('That conversation is no longer available. Say hello to start a new one.');
        return false;
      }
      if (!res.ok) {
        setStatus(problem(res, body), true, true);
        return true;
      }
      connectionBack();
      render(body && body.messages);
    } catch {
      if (gen === generation) setStatus('Cannot reach the server — retrying…', true, true);
    }
    return true;
  }

  function connect() {
    const gen = generation;
    const id = conversation;
    if (!id || !session || typeof EventSource !== 'function') return;
    // No stream token (a session an older server started): the cookie alone opens the stream.
    const query = session.streamToken ? `?session=${encodeURIComponent(session.streamToken)}` : '';
    const stream = new EventSource(`${BASE}${conversationPath(id)}/events${query}`);
    source = stream;
    stream.onmessage = (event) => {
      if (gen !== generation) return;
      reconnectDelay = 1000;
      try {
        render(JSON.parse(event.data).messages);
        connectionBack();
      } catch { /* a malformed event: the next one brings the whole transcript again */ }
    };
    stream.onerror = () => {
      if (gen !== generation || stream.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
      // Refused (an expired token, a limit) or gone: look at why, then open a fresh stream.
      source = null;
      clearTimeout(reconnectTimer);
      reconnectTimer = setTimeout(async () => {
        if (gen !== generation) return;
        if (await fetchTranscript()) {
          if (gen === generation) connect();
        }
      }, reconnectDelay);
      reconnectDelay = Math.min(reconnectDelay * 2, 15_000);
    };
  }

  function disconnect() {
    generation++;
    clearTimeout(reconnectTimer);
    reconnectDelay = 1000;
    if (source) source.close();
    source = null;
  }

  /** Show a conversation (or none: the empty "say hello" state) and follow it live. */
  function showConversation(id) {
    disconnect();
    conversation = id;
    storage.set(CONVERSATION_KEY, id);
    deleteBtn.disabled = !id;
    if (!FRAME) $('subtitle').textContent = id ? `web chat — conversation ${id.slice(0, 8)}` : 'web chat';
    lastSig = null;
    assistantCount = 0;
    stopThinking();
    render([]);
    if (id) {
      fetchTranscript().then((exists) => {
        if (exists) connect();
      });
    }
  }

  // ------------------------------------------------------------------ sending, new, delete

  const updateSend = () => {
    sendBtn.disabled = input.value.trim() === '';
  };
  const autosize = () => {
    // CSSOM (not a style attribute): allowed under the page's CSP.
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, window.innerHeight * 0.4)}px`;
  };

  function giveBack(text) {
    if (input.value) return;
    input.value = text;
    updateSend();
    autosize();
  }

  /** The id of a message given back after a failed send: sent again as it was, it keeps its id, so it is shown and answered once. */
  let unsent = null;
  const messageId = () => Array.from(window.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

  async function send() {
    const text = input.value;
    if (!text.trim()) return;
    // A message given back after a failed send keeps its id when it is sent again as it was.
    const id = unsent && unsent.text === text ? unsent.id : messageId();
    unsent = null;
    input.value = '';
    updateSend();
    autosize();
    input.focus();
    setStatus('');
    startThinking();
    let gen = generation;
    try {
      let res = await api('POST', 'web/messages', conversation ? { conversation, text, id } : { text, id });
      if (res.status === 404 && conversation && gen === generation) {
        // The conversation expired or was erased elsewhere: this message starts a new one.
        showConversation(null);
        startThinking();
        gen = generation;
        res = await api('POST', 'web/messages', { text, id });
      }
      const body = await readJson(res);
      if (gen !== generation) return;
      if (!res.ok) {
        stopThinking();
        setStatus(problem(res, body), true);
        unsent = { text, id };
        giveBack(text);
        return;
      }
      if (!conversation && body && typeof body.conversation === 'string') {
        showConversation(body.conversation);
        startThinking();
      } else {
        fetchTranscript();
      }
    } catch (error) {
      if (gen !== generation) return;
      stopThinking();
      setStatus(error instanceof ApiError ? error.message : 'Cannot reach the server. Your message was not sent.', true);
      unsent = { text, id };
      giveBack(text);
    }
  }

  async function deleteConversation() {
    const id = conversation;
    if (!id) return;
    deleteBtn.disabled = true;
    try {
      const res = await api('DELETE', conversationPath(id));
      if (res.ok || res.status === 404) {
        if (conversation === id) showConversation(null);
        setStatus('Conversation deleted.');
      } else {
        setStatus(problem(res, await readJson(res)), true);
        deleteBtn.disabled = !conversation;
      }
    } catch {
      setStatus('Cannot reach the server. The conversation was not deleted.', true);
      deleteBtn.disabled = !conversation;
    }
  }

  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    send();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      send();
    }
  });
  input.addEventListener('input', () => {
    updateSend();
    autosize();
  });
  $('new').addEventListener('click', () => {
    showConversation(null);
    setStatus('');
    input.focus();
  });
  deleteBtn.addEventListener('click', () => {
    if (!conversation) return;
    if (confirmDialog && typeof confirmDialog.showModal === 'function') confirmDialog.showModal();
    else deleteConversation();
  });
  if (confirmDialog) {
    $('confirm-delete-no').addEventListener('click', () => confirmDialog.close());
    $('confirm-delete-yes').addEventListener('click', () => {
      confirmDialog.close();
      deleteConversation();
    });
  }
  // Back from a sleeping laptop or a hidden tab: renew a stale session and catch up.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible' || !session) return;
    if (session.expiresAt - Date.now() < RENEW_BEFORE_MS) startSession().catch(() => {});
    if (conversation && !source) fetchTranscript();
  });
  window.addEventListener('pagehide', () => {
    if (source) source.close();
  });

  // ------------------------------------------------------------------ start

  updateSend();
  render([]);
  deleteBtn.disabled = true;
  setStatus('Connecting…');
  startSession().then(
    () => {
      setStatus('');
      showConversation(conversation);
    },
    (error) => setStatus(error instanceof ApiError ? error.message : 'Cannot reach the server. Reload the page to try again.', true),
  );
  if (!FRAME) input.focus();
})();

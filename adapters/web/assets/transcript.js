/* global document */
/**
 * What the chat shows of the conversation on show: its messages (the visitor's as typed, the
 * assistant's as markdown), 👍/👎 under each answer (POST /web/feedback), the thinking dots while an
 * answer is due, and the status line under them.
 */
import { api, problem, readJson, storage } from './api.js';
import { el, markdown } from './markdown.js';

const CONVERSATION_KEY = 'parley.conversation';

const messagesEl = document.getElementById('messages');
const statusEl = document.getElementById('status');
const thinkingEl = document.getElementById('thinking');

/** The conversation on show; the server mints its id on the first message. Read-only outside this module. */
export let conversation = storage.get(CONVERSATION_KEY);
let lastSig = '';
/**
 * The newest assistant entry on show ('' for none), as JSON: an answer has arrived when it changes.
 * Not a count of answers: a transcript at its cap (200 entries) drops an old one for each new one.
 */
let newestAnswer = '';
/** While the thinking dots show: the newest assistant entry when they started; null otherwise. */
let thinkingSince = null;
let thinkingTimer = 0;

/** Show `id` from now on (or none: '', a new chat, where null is a tab that never showed one), kept in sessionStorage so a reload continues it. */
export function holdConversation(id) {
  conversation = id || '';
  storage.set(CONVERSATION_KEY, conversation);
}

/** An empty transcript, drawn again whatever comes next. */
export function clearTranscript() {
  lastSig = null;
  newestAnswer = '';
  stopThinking();
  render([]);
}

// ------------------------------------------------------------------ the status line

/** `connection`: trouble reaching the server, which the next sign of the server clears. */
export function setStatus(text, isError, connection) {
  statusEl.textContent = text || '';
  statusEl.className = isError ? 'error' : '';
  statusEl.dataset.trouble = connection ? 'connection' : '';
}

/** The server answered: a connection problem on show is over. Any other message (a refused rating) stays. */
export function connectionBack() {
  if (statusEl.dataset.trouble === 'connection') setStatus('');
}


// ------------------------------------------------------------------ the transcript

/**
 * The nodes on show, by their entry's JSON. An entry drawn once keeps its node: the log (role="log",
 * aria-live="polite") then announces only what is new, not the whole transcript at every change.
 */
let drawn = new Map();
let emptyNode = null;

export function render(list) {
  list = Array.isArray(list) ? list : [];
  const sig = JSON.stringify(list);
  if (sig === lastSig) return;
  lastSig = sig;
  const nearBottom = messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 80;
  const nodes = [];
  const next = new Map();
  let newest = '';
  for (const m of list) {
    const key = JSON.stringify(m);
    if (!(m && m.role === 'user')) newest = key;
    const node = (drawn.get(key) || []).shift() || messageNode(m);
    nodes.push(node);
    next.set(key, [...(next.get(key) || []), node]);
  }
  drawn = next;
  if (!list.length) {
    emptyNode = emptyNode || el('p', 'Say hello to start the conversation.');
    emptyNode.className = 'empty';
    nodes.push(emptyNode);
  }
  const typing = reasonInFocus();
  const onShow = new Set(messagesEl.children);
  patch(messagesEl, nodes);
  if (typing) focusReason(typing);
  newestAnswer = newest;
  const follow = nearBottom || thinkingSince !== null || list.length <= 1;
  if (thinkingSince !== null && newest !== '' && newest !== thinkingSince) stopThinking();
  else if (thinkingSince === null) thinkIfUnanswered(list[list.length - 1]);
  if (follow) messagesEl.scrollTop = messagesEl.scrollHeight;
  // A new answer taller than the log is read from its start, not its end.
  const last = nodes[nodes.length - 1];
  if (follow && !onShow.has(last) && last.dataset.role === 'assistant' && last.offsetHeight > messagesEl.clientHeight) {
    messagesEl.scrollTop += last.getBoundingClientRect().top - messagesEl.getBoundingClientRect().top - 8;
  }
}

/** `parent`'s children become `nodes`, moving none that stays: a screen reader hears only the new ones. */
function patch(parent, nodes) {
  const keep = new Set(nodes);
  for (const child of [...parent.children]) if (!keep.has(child)) child.remove();
  let cursor = parent.firstElementChild;
  for (const node of nodes) {
    if (node === cursor) cursor = cursor.nextElementSibling;
    else parent.insertBefore(node, cursor);
  }
}

/**
 * Who said it, read out before each entry's words ("You:", "Assistant:", "Notice:") and not shown:
 * the bubbles' side and colour say it only to the eye (WCAG 1.3.1). Fixed English, as the page's other words.
 */
const SPEAKERS = { user: 'You:', assistant: 'Assistant:', notice: 'Notice:' };

/**
 * One entry of the transcript: its speaker (visually hidden, never selected or copied), then its
 * words in `.text`, the visitor's as typed, the assistant's as markdown.
 */
function messageNode(m) {
  const role = m && m.role === 'user' ? 'user' : 'assistant';
  const node = el('div');
  const kind = m && (m.kind === 'notice' || m.kind === 'apology') ? m.kind : '';
  node.className = `msg ${role}${kind ? ` ${kind}` : ''}`;
  node.dataset.role = role;
  if (m && typeof m.kind === 'string') node.dataset.kind = m.kind;
  const at = m && m.at ? new Date(m.at) : null;
  if (at && !Number.isNaN(at.getTime())) node.title = at.toLocaleString();
  const speaker = el('span', SPEAKERS[kind ? 'notice' : role]);
  speaker.className = 'speaker sr-only';
  const body = el('div');
  body.className = 'text';
  // Arabic or Hebrew reads right to left, its punctuation where it belongs; the page stays lang="en", ltr.
  body.dir = 'auto';
  const text = m && m.text != null ? String(m.text) : '';
  if (role === 'user') body.textContent = text;
  else body.append(markdown(text));
  node.append(speaker, body);
  // An answer can be rated: 👍/👎 (POST /web/feedback), a 👎 with a reason.
  if (role === 'assistant' && m.kind === 'answer' && typeof m.exchange === 'string' && m.exchange) node.append(feedbackBar(m.exchange));
  return node;
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
  box.dir = 'auto';
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
  // Escape in the box or on its buttons skips the reason, and only that: it does not also close the widget's frame.
  form.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    event.stopPropagation();
    skip.click();
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

/** The bar drawn again; the focus in it (a 👍 pressed by keyboard, Skip) stays on its rating's button, not lost to the page. */
function updateBar(exchange, tried) {
  for (const bar of messagesEl.querySelectorAll('.feedback')) {
    if (bar.dataset.exchange !== exchange) continue;
    const next = feedbackBar(exchange);
    const focused = bar.contains(document.activeElement);
    bar.replaceWith(next);
    if (focused) next.querySelector(`.rate-${(ratings.get(exchange) || {}).rating || tried || 'good'}`).focus();
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
    updateBar(exchange, rating);
    setStatus(message, true);
  };
  try {
    const res = await api('POST', 'web/feedback', reason ? { conversation: id, exchange, rating, reason } : { conversation: id, exchange, rating });
    if (!res.ok) undo(problem(res, await readJson(res)));
  } catch {
    undo('Cannot reach the server. Your rating was not sent.');
  }
}

// ------------------------------------------------------------------ the thinking dots

/** How long the dots wait for an answer at most. */
const THINKING_MS = 60_000;

export function startThinking(forMs = THINKING_MS) {
  thinkingSince = newestAnswer;
  thinkingEl.hidden = false;
  clearTimeout(thinkingTimer);
  thinkingTimer = setTimeout(stopThinking, forMs);
  messagesEl.scrollTop = messagesEl.scrollHeight;
}

/**
 * A visitor's message last in the transcript has no answer yet: after a reload, or when it was sent
 * from another tab, the dots show as they do where it was sent, until its answer or a minute after it.
 */
function thinkIfUnanswered(last) {
  if (!last || last.role !== 'user') return;
  const sentAt = new Date(last.at).getTime();
  // A browser clock behind the server's makes the message look newer than it is: a minute at most.
  const left = Number.isNaN(sentAt) ? 0 : Math.min(THINKING_MS, THINKING_MS - (Date.now() - sentAt));
  if (left > 0) startThinking(left);
}

export function stopThinking() {
  thinkingSince = null;
  thinkingEl.hidden = true;
  clearTimeout(thinkingTimer);
}

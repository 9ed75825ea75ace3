/* global document, FormData, location, URLSearchParams */
/** The Conversations tab: the search, its table, and the transcript of the conversation opened. */
import { api, HOME } from './api.js';
import { $, el, setText, showMoreKeepingFocus } from './dom.js';
import { fmtInt, fmtMs, fmtShortTime, fmtTime, fmtUsd } from './format.js';

/** Rows a search asks for, and how many more "Show more" adds: up to the API's maximum (MAX_SEARCH_LIMIT). */
const PAGE = 50;
const MAX_ROWS = 500;

let conversationsSeq = 0;
let openConversation = '';
/** How many rows the table was last asked to show. */
let shownLimit = PAGE;

/** Search with the filters; `limit` rows at most (a new search starts again at 50). */
export async function loadConversations(limit = PAGE) {
  const seq = ++conversationsSeq;
  const form = new FormData($('conversation-filters'));
  const params = new URLSearchParams();
  for (const name of ['platform', 'user', 'conversation', 'text']) {
    const value = String(form.get(name) ?? '').trim();
    if (value) params.set(name, value);
  }
  params.set('sort', String(form.get('sort') || 'recent'));
  params.set('limit', String(limit));
  let data;
  try {
    data = await api(`${HOME}/api/conversations?${params}`);
  } catch (error) {
    // The status line says why; an empty table or "No conversations match" would read as none.
    if (seq === conversationsSeq) {
      $('conversations-empty').hidden = true;
      $('conversations-more').hidden = true;
      $('conversation-rows').replaceChildren();
    }
    throw error;
  }
  if (seq !== conversationsSeq) return; // a newer search answered first
  shownLimit = limit;
  const conversations = Array.isArray(data?.conversations) ? data.conversations : [];
  $('not-searchable').hidden = data?.searchable !== false;
  $('conversations-empty').hidden = conversations.length > 0 || data?.searchable === false;
  $('conversation-rows').replaceChildren(...conversations.map(conversationRow));
  showCount(conversations.length, data?.more === true);
}

/** The same search, 50 rows more (the focus kept, by keyboard, on the first row added). */
export function showMoreConversations() {
  const rows = () => $('conversation-rows').querySelectorAll('tr[data-testid="conversation"]');
  return showMoreKeepingFocus($('show-more'), rows, () => loadConversations(Math.min(shownLimit + PAGE, MAX_ROWS)), $('conversations-title'), openLinkOf);
}

/** Under the table: how many are shown and, when more match, "Show more" (or, at the maximum, to narrow the search). */
function showCount(shown, more) {
  const atMax = shownLimit >= MAX_ROWS;
  const plural = `${fmtInt(shown)} conversation${shown === 1 ? '' : 's'}`;
  $('conversations-more').hidden = shown === 0;
  setText(
    $('conversations-count'),
    !more ? `${plural}.` : atMax ? `The first ${plural} shown; more match: narrow the filters to see them.` : `The first ${plural} shown; more match.`,
  );
  $('show-more').hidden = !more || atMax;
}

/** The row of the transcript shown is marked, for the eye and (aria-current on its link) for a screen reader. */
function markOpen(row, open) {
  row.classList.toggle('selected', open);
  if (open) openLinkOf(row)?.setAttribute('aria-current', 'true');
  else openLinkOf(row)?.removeAttribute('aria-current');
}

/** A row's link to its transcript (the keyboard's and the screen reader's way in; a click anywhere on the row opens it too). */
const openLinkOf = (row) => row.querySelector('a[data-testid="conversation-open"]');

function conversationRow(c) {
  const href = `#conversations/${encodeURIComponent(c.conversationId)}`;
  const row = el(
    'tr',
    { className: `clickable${c.conversationId === openConversation ? ' selected' : ''}`, testid: 'conversation', 'data-id': c.conversationId, title: 'Open the transcript' },
    el('td', { className: 'time', title: fmtTime(c.lastAt) }, el('a', { href, testid: 'conversation-open', 'aria-current': c.conversationId === openConversation ? 'true' : undefined, text: fmtShortTime(c.lastAt) })),
    el('td', { text: c.platform }),
    el('td', { className: 'clip', text: c.user }),
    el('td', { text: c.tenant ?? '–' }),
    el('td', { className: 'num', testid: 'conversation-exchanges', text: `${fmtInt(c.exchanges)}${c.apologised > 0 ? ` (${fmtInt(c.apologised)} apologised)` : ''}` }),
    el('td', { className: 'nowrap', testid: 'conversation-ratings', text: fmtRatings(c.feedback), title: 'Answers rated 👍 (good) and 👎 (bad)' }),
    el('td', { className: 'clip', text: c.lastInput }),
    el('td', { className: 'clip', text: c.lastOutput }),
    el('td', { className: 'num', text: fmtUsd(c.costUsd) }),
    el('td', { className: 'num', text: fmtMs(c.maxLatencyMs) }),
    el('td', { className: 'nowrap', text: Array.isArray(c.models) ? c.models.join(', ') : '' }),
  );
  row.addEventListener('click', (event) => {
    if (!event.target.closest('a')) location.hash = href;
  });
  return row;
}

export async function openTranscript(id) {
  openConversation = id;
  for (const row of document.querySelectorAll('#conversation-rows tr')) markOpen(row, row.dataset.id === id);
  const data = await api(`${HOME}/api/conversations/${encodeURIComponent(id)}`);
  if (openConversation !== id) return;
  const entries = Array.isArray(data?.entries) ? data.entries : [];
  const shown = `${fmtInt(entries.length)} exchange${entries.length === 1 ? '' : 's'}`;
  setText($('transcript-id'), `${data?.conversationId ?? id} · ${data?.more === true ? `the newest ${shown}; older ones are not shown` : shown}`);
  $('transcript-entries').replaceChildren(
    ...(entries.length ? entries.map(exchangeItem) : [el('li', { className: 'empty', text: 'No exchanges recorded for this conversation.' })]),
  );
  const panel = $('transcript');
  const fromRow = Boolean(document.activeElement?.closest?.('#conversation-rows'));
  panel.hidden = false;
  panel.scrollIntoView({ block: 'nearest' });
  // Opened from its row by keyboard: the focus goes to it (below the table), and a screen reader reads its title.
  if (fromRow) $('transcript-title').focus();
}

/** A conversation's ratings: "👍 2 · 👎 1", or "–" when none. */
function fmtRatings(feedback) {
  const parts = [];
  if (feedback?.good > 0) parts.push(`👍 ${fmtInt(feedback.good)}`);
  if (feedback?.bad > 0) parts.push(`👎 ${fmtInt(feedback.bad)}`);
  return parts.length ? parts.join(' · ') : '–';
}

/** An answer's rating: "👍 good" or "👎 bad: <reason>", by whom and when. */
function feedbackText(f) {
  const rating = f.rating === 'good' ? '👍 good' : f.rating === 'bad' ? '👎 bad' : String(f.rating);
  const who = `${f.user ? ` by ${f.user}` : ''}${f.at ? ` · ${fmtTime(f.at)}` : ''}`;
  return `rated ${rating}${who}${f.reason ? ` — “${f.reason}”` : ''}`;
}

/**
 * One exchange of a transcript; a message given up shows its apology and how long the person waited
 * for it; an answer held back (a teammate took over) says it was not posted.
 */
function exchangeItem(e) {
  const apologised = e.outcome === 'apologised';
  const withheld = e.outcome === 'withheld';
  // The id its log lines and dead letter carry (requestId): where to look next.
  const request = e.requestId ? [el('span', { testid: 'exchange-request', text: `request ${e.requestId}` })] : [];
  const facts = apologised
    ? [
        el('span', { testid: 'exchange-outcome', text: 'not answered: given up' }),
        el('span', { testid: 'exchange-latency', text: `${e.output ? 'apology' : 'given up'} after ${fmtMs(e.latencyMs)}` }),
        ...request,
      ]
    : [
        el('span', { testid: 'exchange-model', text: `model ${e.model ?? '–'}` }),
        el('span', { testid: 'exchange-tokens', text: `tokens ${fmtInt(e.inputTokens)} in · ${fmtInt(e.outputTokens)} out` }),
        el('span', { testid: 'exchange-cost', text: `cost ${fmtUsd(e.costUsd)}` }),
        el('span', { testid: 'exchange-latency', text: `reply in ${fmtMs(e.latencyMs)}` }),
        ...request,
        ...(withheld ? [el('span', { testid: 'exchange-outcome', text: 'not posted: held back' })] : []),
      ];
  return el(
    'li',
    { className: `exchange${apologised ? ' apologised' : withheld ? ' withheld' : ''}`, testid: 'exchange' },
    el('p', { className: 'who', text: `${e.user ?? 'person'}${e.platform ? ` on ${e.platform}` : ''}${e.tenant ? ` (${e.tenant})` : ''} · ${fmtTime(e.timestamp)}` }),
    el('p', { className: 'text input', testid: 'exchange-input', text: e.input ?? '' }),
    el('p', { className: 'who', text: apologised ? 'bot · apologised, not answered' : withheld ? 'bot · held back, not posted' : 'bot' }),
    el('p', { className: 'text output', testid: 'exchange-output', text: e.output || (apologised ? '(the apology could not be posted)' : '') }),
    el('div', { className: 'facts' }, ...facts),
    ...(e.feedback ? [el('p', { className: `feedback ${e.feedback.rating === 'bad' ? 'bad' : 'good'}`, testid: 'exchange-feedback', text: feedbackText(e.feedback) })] : []),
  );
}

/** Closed with the focus in it (its Close button): the focus goes back to the conversation's row, not to the top of the page. */
export function closeTranscript() {
  const focusIn = $('transcript').contains(document.activeElement);
  const row = [...document.querySelectorAll('#conversation-rows tr')].find((r) => r.dataset.id === openConversation);
  openConversation = '';
  $('transcript').hidden = true;
  for (const selected of document.querySelectorAll('#conversation-rows tr.selected')) markOpen(selected, false);
  if (focusIn) ((row && openLinkOf(row)) ?? $('conversations-title')).focus();
}

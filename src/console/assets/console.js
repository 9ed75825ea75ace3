/* global document, window, location, fetch, EventSource, FormData, URLSearchParams */
/**
 * The operator console's page (app.html). Plain DOM, no framework, no build step. Reads the JSON
 * API of src/console/api.ts. Everything that comes from the API is rendered with textContent or
 * attributes, never as HTML: transcripts and dead letters hold whatever people wrote.
 */

// The console's own path, mount prefix included (/console, or /bot/console under app.use('/bot', …)).
const HOME = new URL('../', import.meta.url).pathname.replace(/\/$/, '');
const VIEWS = ['overview', 'conversations', 'dead-letters', 'budgets'];
const SVG = 'http://www.w3.org/2000/svg';

// ---------------------------------------------------------------- small helpers

const $ = (id) => document.getElementById(id);

/** An element with text (never HTML) and attributes; `children` are nodes or strings. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else if (name === 'className') node.className = value;
    else if (name === 'testid') node.setAttribute('data-testid', value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });
const usdSmall = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', minimumFractionDigits: 4, maximumFractionDigits: 4 });
const usdLarge = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

const isNumber = (n) => typeof n === 'number' && Number.isFinite(n);
const fmtInt = (n) => (isNumber(n) ? integer.format(n) : '–');
/** Dollars: 4 decimals under $1 (AI calls cost fractions of a cent), 2 from $1. */
function fmtUsd(n) {
  if (!isNumber(n)) return '–';
  // a call of a few tokens costs millionths: not nothing, and not $0.0000 either
  if (n > 0 && n < 0.00005) return `<${usdSmall.format(0.0001)}`;
  return (Math.abs(n) < 1 ? usdSmall : usdLarge).format(n);
}
const fmtPct = (r) => (isNumber(r) ? percent.format(r) : '–');
function fmtMs(ms) {
  if (!isNumber(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}
/** An ISO time in the browser's locale and time zone. */
function fmtTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso ?? '–') : date.toLocaleString();
}
const shortTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
/** An ISO time, shorter (tables): the full one goes in the cell's title. */
function fmtShortTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso ?? '–') : shortTime.format(date);
}
/** An API minute ("2026-12-02T10:41", UTC) as a Date. */
function minuteDate(minute) {
  const text = String(minute);
  return new Date(/(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text.length <= 16 ? `${text}:00` : text}Z`);
}

function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

// ---------------------------------------------------------------- the API

class SignedOut extends Error {}
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let leaving = false;

/** Fetch JSON from the console API; a 401 sends the browser to the sign-in page. */
async function api(path, { body, method } = {}) {
  const init = { credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined || method === 'POST') {
    init.method = 'POST';
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  const res = await fetch(path, init);
  if (res.status === 401) {
    signOutLocally();
    throw new SignedOut('signed out');
  }
  const raw = await res.text();
  let data = null;
  try {
    data = raw ? JSON.parse(raw) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const reason = data && (typeof data.error === 'string' ? data.error : data.error?.message ?? data.message);
    throw new ApiError(res.status, reason || raw.slice(0, 200) || `${res.status} ${res.statusText}`);
  }
  return data;
}

function signOutLocally() {
  if (leaving) return;
  leaving = true;
  live?.close();
  location.assign(HOME);
}

/** Run an async action; its failure becomes the status line (never an unhandled rejection). */
function run(action) {
  Promise.resolve()
    .then(action)
    .catch((error) => {
      if (leaving || error instanceof SignedOut) return;
      setStatus(error instanceof ApiError ? `Failed (${error.status}): ${error.message}` : `Failed: ${error?.message ?? error}`, true);
    });
}

function setStatus(text, isError = false) {
  const status = $('status');
  status.classList.toggle('error', isError);
  status.setAttribute('role', isError ? 'alert' : 'status');
  status.textContent = text;
}

// ---------------------------------------------------------------- routing

let current = '';

function route() {
  const [head = '', ...rest] = location.hash.replace(/^#/, '').split('/');
  const view = VIEWS.includes(head) ? head : 'overview';
  const entering = view !== current;
  current = view;
  for (const section of document.querySelectorAll('[data-view]')) section.hidden = section.dataset.view !== view;
  for (const tab of document.querySelectorAll('[data-tab]')) {
    if (tab.dataset.tab === view) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  if (entering) setStatus('');
  if (view === 'conversations') {
    if (entering) run(loadConversations);
    const id = rest.length ? safeDecode(rest.join('/')) : '';
    if (id) run(() => openTranscript(id));
    else closeTranscript();
  } else if (entering && view === 'dead-letters') run(loadDeadLetters);
  else if (entering && view === 'budgets') run(loadBudgets);
}

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// ---------------------------------------------------------------- overview (live)

let live = null;
let liveRetry = null;
let lastOverview = null;

function setLive(on, text) {
  const badge = $('live');
  badge.classList.toggle('on', on);
  badge.classList.toggle('off', !on);
  setText(badge, text ?? (on ? 'live' : 'reconnecting…'));
  if (on) showStale('');
}

/** The overview's figures are old: say why beside them (an empty reason clears it). */
function showStale(reason) {
  const note = $('overview-stale');
  note.hidden = !reason;
  setText(note, reason ? `Not updating: ${reason}` : '');
  $('live').title = reason;
}

function connect() {
  if (leaving) return;
  live = new EventSource(`${HOME}/api/events`);
  // Connected is not live yet: the first overview says so (or `unavailable` says why not).
  live.addEventListener('open', () => setLive(false, 'connected'));
  live.addEventListener('unavailable', (event) => {
    let reason = '';
    try {
      reason = String(JSON.parse(event.data).message ?? '');
    } catch {
      // a malformed event still means the figures are old
    }
    setLive(false, 'stale');
    showStale(reason || 'the figures cannot be read right now.');
  });
  live.addEventListener('overview', (event) => {
    let overview;
    try {
      overview = JSON.parse(event.data);
    } catch {
      return;
    }
    setLive(true);
    renderOverview(overview);
  });
  live.addEventListener('error', () => {
    if (leaving) return;
    setLive(false);
    if (live.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
    live.close();
    // The stream was refused: find out why (a 401 signs out), then try again.
    run(async () => {
      try {
        renderOverview(await api(`${HOME}/api/overview`));
      } finally {
        clearTimeout(liveRetry);
        if (!leaving) liveRetry = setTimeout(connect, 3000);
      }
    });
  });
}

function renderOverview(o) {
  if (!o || typeof o !== 'object') return;
  const previous = lastOverview;
  lastOverview = o;
  const minutes = Array.isArray(o.minutes) ? o.minutes : [];
  const last = minutes[minutes.length - 1] ?? {};
  const hour = { received: 0, answered: 0, apologised: 0, deadLettered: 0 };
  for (const m of minutes) for (const key of Object.keys(hour)) hour[key] += isNumber(m[key]) ? m[key] : 0;
  const fields = {
    receivedMinute: fmtInt(last.received ?? 0),
    answeredMinute: fmtInt(last.answered ?? 0),
    apologisedMinute: fmtInt(last.apologised ?? 0),
    receivedHour: fmtInt(hour.received),
    answeredHour: fmtInt(hour.answered),
    apologisedHour: fmtInt(hour.apologised),
    deadLetteredHour: fmtInt(hour.deadLettered),
    p50: fmtMs(o.replyMs?.p50),
    p95: fmtMs(o.replyMs?.p95),
    replyCount: fmtInt(o.replyMs?.count),
    queueWaiting: fmtInt(o.queue?.waiting),
    queueActive: fmtInt(o.queue?.active),
    queueDelayed: fmtInt(o.queue?.delayed),
    deadLetters: fmtInt(o.queue?.dead),
    spendToday: fmtUsd(o.spend?.today?.totalUsd),
    spendMonth: fmtUsd(o.spend?.month?.totalUsd),
    cacheHitRate: fmtPct(o.cache?.hitRate),
    cacheDetail: `${fmtInt(o.cache?.hits)} hits, ${fmtInt(o.cache?.misses)} misses`,
    breaker: breakerText(o),
    rateLimited: fmtInt(o.rateLimited),
  };
  for (const node of document.querySelectorAll('[data-field]')) {
    const value = fields[node.dataset.field];
    if (value !== undefined) setText(node, value);
  }
  const breaker = document.querySelector('[data-field="breaker"]');
  breaker.className = `pill breaker-${String(o.breaker ?? 'unknown')}`;
  setText($('overview-at'), o.at ? `as of ${new Date(o.at).toLocaleTimeString()}` : '');
  renderMoneyTable($('spend-by-model'), o.spend?.today?.byModel, 'no AI calls today');
  renderMoneyTable($('spend-by-tenant'), o.spend?.today?.byTenant, 'no tenant spend today', (name) => (name === '-' || name === '' ? '(no tenant)' : name));
  renderChart(minutes);
  renderBudgetList($('overview-budgets'), o.budgets);
  renderAlertList($('overview-alerts'), o.alerts);

  // The open tab follows what changed: a new dead letter, a budget or alert moving.
  if (previous) {
    if (current === 'dead-letters' && previous.queue?.dead !== o.queue?.dead) run(loadDeadLetters);
    if (current === 'budgets' && JSON.stringify([previous.budgets, previous.alerts]) !== JSON.stringify([o.budgets, o.alerts])) run(loadBudgets);
  }
}

function renderMoneyTable(tbody, record, emptyText, label = (name) => name) {
  const entries = Object.entries(record ?? {}).sort((a, b) => b[1] - a[1]);
  const rows = entries.length
    ? entries.map(([name, usd]) => el('tr', {}, el('td', { text: label(name) }), el('td', { className: 'num', text: fmtUsd(usd) })))
    : [el('tr', {}, el('td', { className: 'muted', colspan: 2, text: emptyText }))];
  tbody.replaceChildren(...rows);
}

/**
 * A minute's messages by how they ended, each counted once: a message given up is dead-lettered
 * and apologised both, so the dead-lettered part is only those that got no apology.
 */
function minuteOutcomes(m) {
  const count = (n) => (isNumber(n) ? n : 0);
  const apologised = count(m.apologised);
  return { answered: count(m.answered), apologised, deadLettered: Math.max(0, count(m.deadLettered) - apologised) };
}

/** The last 60 minutes as bars: received behind, answered / apologised / dead-lettered (no apology) stacked in front. */
function renderChart(minutes) {
  const width = 600;
  const height = 120;
  const slot = width / Math.max(minutes.length, 60);
  let peak = 0;
  for (const m of minutes) {
    const ended = minuteOutcomes(m);
    peak = Math.max(peak, m.received ?? 0, ended.answered + ended.apologised + ended.deadLettered);
  }
  const scale = (n) => (peak > 0 ? ((isNumber(n) ? n : 0) / peak) * (height - 4) : 0);
  const total = minutes.reduce((sum, m) => sum + (m.received ?? 0), 0);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', class: 'chart', role: 'img' });
  chart.setAttribute('aria-label', `${total} messages received in the last ${minutes.length} minutes, at most ${peak} in a minute`);
  chart.append(svg('line', { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: 'axis' }));
  minutes.forEach((m, i) => {
    const x = i * slot;
    const group = svg('g', {});
    const title = svg('title', {});
    title.textContent = `${clock.format(minuteDate(m.minute))}: received ${m.received ?? 0}, answered ${m.answered ?? 0}, apologised ${m.apologised ?? 0}, dead-lettered ${m.deadLettered ?? 0}`;
    group.append(title);
    const received = scale(m.received);
    group.append(svg('rect', { x: x + 1, y: height - received, width: Math.max(slot - 2, 1), height: received, class: 'received' }));
    let base = height;
    const ended = minuteOutcomes(m);
    for (const [key, cls] of [['answered', 'answered'], ['apologised', 'apologised'], ['deadLettered', 'dead']]) {
      const h = scale(ended[key]);
      if (h <= 0) continue;
      base -= h;
      group.append(svg('rect', { x: x + 2.5, y: base, width: Math.max(slot - 5, 1), height: h, class: cls }));
    }
    // a transparent hit area, so the title shows anywhere in the column
    group.append(svg('rect', { x, y: 0, width: slot, height, fill: 'transparent' }));
    chart.append(group);
  });
  $('chart').replaceChildren(chart);
  setText($('chart-peak'), minutes.length ? `peak ${fmtInt(peak)}/min · ${clock.format(minuteDate(minutes[0].minute))} → now` : 'no data');
}

/** The stable test id of a budget row: budget-overall-day, budget-tenant-acme-month. */
function budgetKey(b) {
  return b.scope === 'tenant' ? `budget-tenant-${b.tenant}-${b.period}` : `budget-${b.scope}-${b.period}`;
}

function budgetItem(b) {
  const state = ['ok', 'warning', 'exceeded'].includes(b.state) ? b.state : 'ok';
  const who = b.scope === 'tenant' ? `Tenant ${b.tenant}` : 'Overall';
  const ratio = isNumber(b.ratio) ? b.ratio : 0;
  const bar = el('progress', { max: 1, value: Math.min(Math.max(ratio, 0), 1), 'aria-label': `${who}, ${b.period}: ${fmtPct(ratio)} of the budget` });
  return el(
    'li',
    { className: `budget ${state}`, testid: budgetKey(b) },
    el(
      'div',
      { className: 'line' },
      el('span', {}, el('strong', { text: who }), ` · ${b.period === 'month' ? 'month' : 'day'} ${b.periodKey ?? ''}`),
      el('span', { className: `pill state state-${state}`, testid: `${budgetKey(b)}-state`, text: state }),
    ),
    bar,
    el('div', { className: 'line sub' }, el('span', { text: `${fmtUsd(b.spentUsd)} of ${fmtUsd(b.limitUsd)}` }), el('span', { text: fmtPct(ratio) })),
  );
}

function renderBudgetList(list, budgets) {
  const items = Array.isArray(budgets) ? budgets : [];
  list.replaceChildren(...(items.length ? items.map(budgetItem) : [el('li', { className: 'empty', text: 'No budget is set (AI_BUDGET_USD_PER_DAY, AI_BUDGET_USD_PER_MONTH).' })]));
}

function renderAlertList(list, alerts) {
  const items = newestFirst(alerts);
  list.replaceChildren(
    ...(items.length
      ? items.map((a) =>
          el(
            'li',
            { testid: 'alert', 'data-kind': a.kind },
            el('span', { className: 'meta', text: `${fmtTime(a.at)} · ${a.kind}${a.delivered ? '' : ' · not delivered'}` }),
            el('span', { text: a.text }),
          ),
        )
      : [el('li', { className: 'empty', text: 'No alerts.' })]),
  );
}

function newestFirst(alerts) {
  const items = Array.isArray(alerts) ? [...alerts] : [];
  return items.sort((a, b) => (Date.parse(b.at) || 0) - (Date.parse(a.at) || 0));
}

// ---------------------------------------------------------------- conversations

let conversationsSeq = 0;
let openConversation = '';

async function loadConversations() {
  const seq = ++conversationsSeq;
  const form = new FormData($('conversation-filters'));
  const params = new URLSearchParams();
  for (const name of ['platform', 'user', 'text']) {
    const value = String(form.get(name) ?? '').trim();
    if (value) params.set(name, value);
  }
  params.set('sort', String(form.get('sort') || 'recent'));
  let data;
  try {
    data = await api(`${HOME}/api/conversations?${params}`);
  } catch (error) {
    // The status line says why; an empty table or "No conversations match" would read as none.
    if (seq === conversationsSeq) {
      $('conversations-empty').hidden = true;
      $('conversation-rows').replaceChildren();
    }
    throw error;
  }
  if (seq !== conversationsSeq) return; // a newer search answered first
  const conversations = Array.isArray(data?.conversations) ? data.conversations : [];
  $('not-searchable').hidden = data?.searchable !== false;
  $('conversations-empty').hidden = conversations.length > 0 || data?.searchable === false;
  $('conversation-rows').replaceChildren(...conversations.map(conversationRow));
}

function conversationRow(c) {
  const row = el(
    'tr',
    { className: `clickable${c.conversationId === openConversation ? ' selected' : ''}`, tabindex: 0, testid: 'conversation', 'data-id': c.conversationId, title: 'Open the transcript' },
    el('td', { className: 'time', text: fmtShortTime(c.lastAt), title: fmtTime(c.lastAt) }),
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
  const open = () => {
    location.hash = `#conversations/${encodeURIComponent(c.conversationId)}`;
  };
  row.addEventListener('click', open);
  row.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      open();
    }
  });
  return row;
}

async function openTranscript(id) {
  openConversation = id;
  for (const row of document.querySelectorAll('#conversation-rows tr')) row.classList.toggle('selected', row.dataset.id === id);
  const data = await api(`${HOME}/api/conversations/${encodeURIComponent(id)}`);
  if (openConversation !== id) return;
  const entries = Array.isArray(data?.entries) ? data.entries : [];
  setText($('transcript-id'), `${data?.conversationId ?? id} · ${entries.length} exchange${entries.length === 1 ? '' : 's'}`);
  $('transcript-entries').replaceChildren(
    ...(entries.length ? entries.map(exchangeItem) : [el('li', { className: 'empty', text: 'No exchanges recorded for this conversation.' })]),
  );
  const panel = $('transcript');
  panel.hidden = false;
  panel.scrollIntoView({ block: 'nearest' });
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

/** One exchange of a transcript; a message given up shows its apology and how long the person waited for it. */
function exchangeItem(e) {
  const apologised = e.outcome === 'apologised';
  const facts = apologised
    ? [
        el('span', { testid: 'exchange-outcome', text: 'not answered: given up' }),
        el('span', { testid: 'exchange-latency', text: `${e.output ? 'apology' : 'given up'} after ${fmtMs(e.latencyMs)}` }),
      ]
    : [
        el('span', { testid: 'exchange-model', text: `model ${e.model ?? '–'}` }),
        el('span', { testid: 'exchange-tokens', text: `tokens ${fmtInt(e.inputTokens)} in · ${fmtInt(e.outputTokens)} out` }),
        el('span', { testid: 'exchange-cost', text: `cost ${fmtUsd(e.costUsd)}` }),
        el('span', { testid: 'exchange-latency', text: `reply in ${fmtMs(e.latencyMs)}` }),
      ];
  return el(
    'li',
    { className: `exchange${apologised ? ' apologised' : ''}`, testid: 'exchange' },
    el('p', { className: 'who', text: `${e.user ?? 'person'}${e.platform ? ` on ${e.platform}` : ''}${e.tenant ? ` (${e.tenant})` : ''} · ${fmtTime(e.timestamp)}` }),
    el('p', { className: 'text input', testid: 'exchange-input', text: e.input ?? '' }),
    el('p', { className: 'who', text: apologised ? 'bot · apologised, not answered' : 'bot' }),
    el('p', { className: 'text output', testid: 'exchange-output', text: e.output || (apologised ? '(the apology could not be posted)' : '') }),
    el('div', { className: 'facts' }, ...facts),
    ...(e.feedback ? [el('p', { className: `feedback ${e.feedback.rating === 'bad' ? 'bad' : 'good'}`, testid: 'exchange-feedback', text: feedbackText(e.feedback) })] : []),
  );
}

function closeTranscript() {
  openConversation = '';
  $('transcript').hidden = true;
  for (const row of document.querySelectorAll('#conversation-rows tr.selected')) row.classList.remove('selected');
}

// ---------------------------------------------------------------- dead letters

let deadSeq = 0;
const DEAD_LETTER_COLUMNS = 9;
/** The dead letters whose payload is open: a reload keeps them open. */
const openPayloads = new Set();

async function loadDeadLetters() {
  const seq = ++deadSeq;
  const data = await api(`${HOME}/api/dead-letters`);
  if (seq !== deadSeq) return;
  const letters = Array.isArray(data?.deadLetters) ? data.deadLetters : [];
  setText($('dead-letter-count'), `(${letters.length})`);
  $('dead-letters-empty').hidden = letters.length > 0;
  $('replay-all').disabled = letters.length === 0;
  $('purge').disabled = letters.length === 0;
  const ids = new Set(letters.map((d) => d.id));
  for (const id of openPayloads) if (!ids.has(id)) openPayloads.delete(id);
  $('dead-letter-rows').replaceChildren(...letters.flatMap(deadLetterRow));
}

function deadLetterRow(d) {
  const replay = el('button', { type: 'button', className: 'small', testid: 'replay', text: 'Replay' });
  replay.addEventListener('click', () => {
    replay.disabled = true;
    run(async () => {
      try {
        await api(`${HOME}/api/dead-letters/${encodeURIComponent(d.id)}/replay`, { method: 'POST' });
        setStatus(`Replayed dead letter ${d.id}: the message is queued again.`);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
        setStatus(`Dead letter ${d.id} is gone already (replayed or purged elsewhere).`, true);
      } finally {
        await loadDeadLetters();
      }
    });
  });
  let payload;
  try {
    payload = JSON.stringify(d.payload, null, 2) ?? 'null';
  } catch {
    payload = String(d.payload);
  }
  // the payload opens in a row of its own, under the dead letter, as wide as the table
  const payloadRow = el('tr', { className: 'payload-row', 'data-payload-for': d.id, hidden: true }, el('td', { colspan: DEAD_LETTER_COLUMNS }, el('pre', { testid: 'payload', text: payload })));
  const toggle = el('button', { type: 'button', className: 'small link', testid: 'payload-toggle', 'aria-expanded': 'false', text: 'payload' });
  toggle.addEventListener('click', () => {
    payloadRow.hidden = !payloadRow.hidden;
    toggle.setAttribute('aria-expanded', String(!payloadRow.hidden));
    if (payloadRow.hidden) openPayloads.delete(d.id);
    else openPayloads.add(d.id);
  });
  if (openPayloads.has(d.id)) {
    payloadRow.hidden = false;
    toggle.setAttribute('aria-expanded', 'true');
  }
  const row = el(
    'tr',
    { testid: 'dead-letter', 'data-id': d.id },
    el('td', { className: 'actions' }, replay, ' ', toggle),
    el('td', { className: 'time', text: fmtShortTime(d.failedAt), title: fmtTime(d.failedAt) }),
    el('td', { className: 'mono clip', text: d.id, title: d.id }),
    el('td', { text: d.platform }),
    el('td', { className: 'clip', text: d.user, title: d.conversation ? `conversation ${d.conversation}` : undefined }),
    el('td', { className: 'wrap', testid: 'dead-letter-text', text: d.text }),
    el('td', { text: d.reason }),
    el('td', { className: 'wrap', testid: 'dead-letter-error', text: d.error }),
    el('td', { className: 'num', text: fmtInt(d.attempts) }),
  );
  return [row, payloadRow];
}

function replayAll() {
  const button = $('replay-all');
  button.disabled = true;
  run(async () => {
    try {
      const data = await api(`${HOME}/api/dead-letters/replay-all`, { method: 'POST' });
      const n = data?.replayed ?? 0;
      setStatus(`Replayed ${fmtInt(n)} dead letter${n === 1 ? '' : 's'}.`);
    } finally {
      await loadDeadLetters();
    }
  });
}

function askPurge() {
  const dialog = $('purge-dialog');
  const rows = document.querySelectorAll('#dead-letter-rows tr[data-testid="dead-letter"]').length;
  setText($('purge-count'), rows === 1 ? 'the 1 dead letter' : rows ? `all ${fmtInt(rows)} dead letters` : 'every dead letter');
  dialog.returnValue = '';
  dialog.showModal();
}

function purgeDialogClosed() {
  if ($('purge-dialog').returnValue !== 'purge') {
    setStatus('Purge cancelled: nothing was deleted.');
    return;
  }
  run(async () => {
    try {
      const data = await api(`${HOME}/api/dead-letters/purge`, { body: { confirm: 'purge' } });
      const n = data?.purged ?? 0;
      setStatus(`Purged ${fmtInt(n)} dead letter${n === 1 ? '' : 's'}.`);
    } finally {
      await loadDeadLetters();
    }
  });
}

// ---------------------------------------------------------------- budgets and alerts

let budgetsSeq = 0;

const POLICIES = {
  notice: 'Past a budget the bot answers with a notice instead of calling the AI.',
  fallback: 'Past a budget the fallback model answers (OPENAI_FALLBACK_MODEL).',
  allow: 'Past a budget the AI keeps answering; it only raises the alerts.',
};

async function loadBudgets() {
  const seq = ++budgetsSeq;
  const [view, alerts] = await Promise.all([api(`${HOME}/api/budgets`), api(`${HOME}/api/alerts`)]);
  if (seq !== budgetsSeq) return;
  setText($('budget-policy'), String(view?.policy ?? '–'));
  setText($('policy-explained'), POLICIES[view?.policy] ?? '');
  setText($('alert-webhook'), view?.alertWebhook ? 'set' : 'not set: alerts are only logged');
  const limits = view?.limits ?? {};
  const limit = (n) => (isNumber(n) ? fmtUsd(n) : 'none');
  setText($('limit-day'), limit(limits.dayUsd));
  setText($('limit-month'), limit(limits.monthUsd));
  setText($('limit-tenant-day'), limit(limits.tenantDayUsd));
  setText($('limit-tenant-month'), limit(limits.tenantMonthUsd));
  renderBudgetList($('budget-list'), view?.budgets);
  const items = newestFirst(alerts?.alerts);
  $('alerts-empty').hidden = items.length > 0;
  $('alert-rows').replaceChildren(
    ...items.map((a) =>
      el(
        'tr',
        { testid: 'alert-row', 'data-kind': a.kind },
        el('td', { className: 'time', text: fmtShortTime(a.at), title: fmtTime(a.at) }),
        el('td', { className: 'mono', text: a.kind }),
        el('td', { className: 'wrap', text: a.text }),
        el('td', { text: a.delivered ? 'delivered' : 'not delivered' }),
      ),
    ),
  );
}

// ---------------------------------------------------------------- start

function start() {
  window.addEventListener('hashchange', route);
  window.addEventListener('pagehide', () => {
    leaving = true;
    live?.close();
    clearTimeout(liveRetry);
  });
  // back from the back/forward cache with the stream closed: start over
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) location.reload();
  });
  document.querySelector('form.signout').addEventListener('submit', () => {
    leaving = true;
    live?.close();
  });

  const filters = $('conversation-filters');
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    run(loadConversations);
  });
  for (const select of filters.querySelectorAll('select')) select.addEventListener('change', () => run(loadConversations));
  let typing = null;
  for (const input of filters.querySelectorAll('input')) {
    input.addEventListener('input', () => {
      clearTimeout(typing);
      typing = setTimeout(() => run(loadConversations), 300);
    });
  }
  $('transcript-close').addEventListener('click', () => {
    location.hash = '#conversations';
  });

  $('dead-refresh').addEventListener('click', () => run(loadDeadLetters));
  $('replay-all').addEventListener('click', replayAll);
  $('purge').addEventListener('click', askPurge);
  $('purge-dialog').addEventListener('close', purgeDialogClosed);
  $('budgets-refresh').addEventListener('click', () => run(loadBudgets));

  route();
  run(async () => renderOverview(await api(`${HOME}/api/overview`)));
  connect();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();

/** The worst breaker of every process; with several processes, how many are in that state. */
function breakerText(o) {
  const state = String(o.breaker ?? '–');
  const counts = Object.values(o.breakers ?? {});
  const total = counts.reduce((sum, n) => sum + n, 0);
  const inState = o.breakers?.[o.breaker] ?? 0;
  return total > 1 && inState < total ? `${state} (${inState} of ${total} processes)` : state;
}

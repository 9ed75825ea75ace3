/* global document, EventSource */
/**
 * The Overview tab, live: the figures a server-sent event brings every 2 s, the badge that says
 * whether they are current, and why not when they are stale.
 */
import { api, HOME, isLeaving, run, whenLeaving } from './api.js';
import { renderAlertList, renderBudgetList } from './budgets.js';
import { renderChart } from './chart.js';
import { $, el, setText } from './dom.js';
import { fmtInt, fmtMs, fmtPct, fmtUsd, isNumber } from './format.js';

let live = null;
let liveRetry = null;
let lastOverview = null;
/** Told of each new overview after the first, with the one before: the open tab follows what changed. */
let changed = () => {};

/** Show the overview now, then follow it live; `onChange(previous, overview)` hears of each new one. */
export function startOverview(onChange) {
  changed = onChange;
  whenLeaving(() => {
    live?.close();
    clearTimeout(liveRetry);
  });
  run(async () => renderOverview(await api(`${HOME}/api/overview`)));
  connect();
}

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
  if (isLeaving()) return;
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
    if (isLeaving()) return;
    setLive(false);
    if (live.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
    live.close();
    // The stream was refused: find out why (a 401 signs out), then try again.
    run(async () => {
      try {
        renderOverview(await api(`${HOME}/api/overview`));
      } finally {
        clearTimeout(liveRetry);
        if (!isLeaving()) liveRetry = setTimeout(connect, 3000);
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
  const others = o.spend?.today?.otherTenants;
  // The overview names the tenants that spent most; the rest are one row.
  if (isNumber(others?.count) && others.count > 0) {
    $('spend-by-tenant').append(el('tr', { testid: 'other-tenants' }, el('td', { className: 'muted', text: `${fmtInt(others.count)} other tenant${others.count === 1 ? '' : 's'}` }), el('td', { className: 'num', text: fmtUsd(others.totalUsd) })));
  }
  renderChart(minutes);
  renderBudgetList($('overview-budgets'), o.budgets, o.otherBudgets, { limits: o.limits });
  renderAlertList($('overview-alerts'), o.alerts);
  if (previous) changed(previous, o);
}

function renderMoneyTable(tbody, record, emptyText, label = (name) => name) {
  const entries = Object.entries(record ?? {}).sort((a, b) => b[1] - a[1]);
  const rows = entries.length
    ? entries.map(([name, usd]) => el('tr', {}, el('td', { text: label(name) }), el('td', { className: 'num', text: fmtUsd(usd) })))
    : [el('tr', {}, el('td', { className: 'muted', colspan: 2, text: emptyText }))];
  tbody.replaceChildren(...rows);
}

/** The worst breaker of every process; with several processes, how many are in that state. */
function breakerText(o) {
  const state = String(o.breaker ?? '–');
  const counts = Object.values(o.breakers ?? {});
  const total = counts.reduce((sum, n) => sum + n, 0);
  const inState = o.breakers?.[o.breaker] ?? 0;
  return total > 1 && inState < total ? `${state} (${inState} of ${total} processes)` : state;
}

/* global document */
/** The Dead letters tab: each letter with its payload, replay one or all, and drop one or purge all after a confirmation. */
import { api, ApiError, HOME, run, setStatus } from './api.js';
import { clampedText, forgetClamped } from './clamp.js';
import { $, el, setText, showMoreKeepingFocus } from './dom.js';
import { fmtInt, fmtShortTime, fmtTime } from './format.js';

let deadSeq = 0;
const DEAD_LETTER_COLUMNS = 9;
/** Letters a load asks for, and how many more "Show more" adds: up to the API's maximum (1,000). */
const PAGE = 100;
const MAX_ROWS = 1000;
/** How many letters the table was last asked to show: a reload keeps it. */
let shownLimit = PAGE;
/** How many dead letters there are, those not listed included. */
let total = 0;
/** The dead letters whose payload is open: a reload keeps them open. */
const openPayloads = new Set();
/** The long texts and errors shown whole ("<id> text", "<id> error"): a reload keeps them whole. */
const openCells = new Set();
/** The dead letter the drop dialog asks about. */
let dropping;
/** Where the focus goes once the list is drawn again after an action (whichever load draws it: a newer one wins). */
let focusAfter = null;

/** How many letters the newest load asked for: a reload started while "Show more" loads asks as many. */
let askedLimit = PAGE;
/** The newest load: an older one, overtaken, waits for it (its caller then sees the list it draws). */
let newestLoad = Promise.resolve();

/** The oldest `limit` letters (a reload keeps the number shown or being loaded; "Show more" adds 100). */
export function loadDeadLetters(limit = askedLimit) {
  askedLimit = limit;
  newestLoad = drawDeadLetters(limit, ++deadSeq);
  return newestLoad;
}

async function drawDeadLetters(limit, seq) {
  const data = await api(`${HOME}/api/dead-letters?limit=${limit}`);
  // A newer load (the live overview's, on a new dead letter) draws the list: "Show more" pressed
  // meanwhile is not undone by it (it asks as many), and waits for it to keep the focus.
  if (seq !== deadSeq) return newestLoad;
  shownLimit = limit;
  const letters = Array.isArray(data?.deadLetters) ? data.deadLetters : [];
  total = Number.isInteger(data?.count) ? data.count : letters.length;
  setText($('dead-letter-count'), `(${fmtInt(total)})`);
  $('dead-letters-empty').hidden = total > 0;
  $('replay-all').disabled = total === 0;
  $('purge').disabled = total === 0;
  showDeadCount(letters.length, data?.more === true);
  const ids = new Set(letters.map((d) => d.id));
  for (const id of openPayloads) if (!ids.has(id)) openPayloads.delete(id);
  for (const key of openCells) if (!ids.has(key.slice(0, key.lastIndexOf(' ')))) openCells.delete(key);
  forgetClamped();
  const spot = spotOf(document.activeElement) ?? focusAfter;
  focusAfter = null;
  $('dead-letter-rows').replaceChildren(...letters.flatMap(deadLetterRow));
  if (spot) focusAgain(spot);
}

/** Where a button of a letter's row is: its data-testid, its letter's id, its row's place (null outside the rows). */
function spotOf(node) {
  const row = node && node.closest ? node.closest('#dead-letter-rows tr[data-testid="dead-letter"]') : null;
  if (!row) return null;
  return { testid: node.dataset.testid, id: row.dataset.id, index: [...$('dead-letter-rows').querySelectorAll('tr[data-testid="dead-letter"]')].indexOf(row) };
}

/**
 * The focus was lost (its row replaced by a reload, a replayed or dropped letter gone, Purge or Replay
 * all disabled): it goes to the same button of the same letter, else of the letter now in its place,
 * else to the tab's heading; never to the top of the page. A focus somewhere else is left alone.
 */
function focusAgain(spot) {
  const active = document.activeElement;
  if (active && active !== document.body && !active.disabled) return;
  const rows = [...$('dead-letter-rows').querySelectorAll('tr[data-testid="dead-letter"]')];
  const row = rows.find((r) => r.dataset.id === spot.id) ?? (spot.index >= 0 ? rows[Math.min(spot.index, rows.length - 1)] : undefined);
  const target = row?.querySelector(`[data-testid="${spot.testid}"]:not([hidden]):not(:disabled)`) ?? row?.querySelector('button:not(:disabled)') ?? $('dead-letters-title');
  target.focus();
}

/** The next 100 letters (the focus kept, by keyboard, on the first letter added). */
export function showMoreDeadLetters() {
  const rows = () => $('dead-letter-rows').querySelectorAll('tr[data-testid="dead-letter"]');
  return showMoreKeepingFocus($('dead-show-more'), rows, () => loadDeadLetters(Math.min(shownLimit + PAGE, MAX_ROWS)), $('dead-letters-title'), (row) => row.querySelector('button:not(:disabled)'));
}

/** Under the table, when not every letter is listed: how many are, and "Show more" (or, at the maximum, what acts on them all). */
function showDeadCount(shown, more) {
  const atMax = shownLimit >= MAX_ROWS;
  $('dead-letters-more').hidden = !more;
  const listed = `The oldest ${fmtInt(shown)} of ${fmtInt(total)} dead letters shown`;
  setText($('dead-letters-shown'), atMax ? `${listed}; replay all and purge act on every one.` : `${listed}.`);
  $('dead-show-more').hidden = !more || atMax;
}

/**
 * Run an action, then list the letters again. The action's own failure is the one shown: a reload
 * that fails as well (Redis down) must not replace it (an `outcome_unknown` says what to do).
 */
async function thenReload(action, spot = null) {
  try {
    await action();
  } catch (error) {
    focusAfter = spot;
    await loadDeadLetters().catch(() => undefined);
    throw error;
  }
  focusAfter = spot;
  await loadDeadLetters();
}

function deadLetterRow(d) {
  const replay = el('button', { type: 'button', className: 'small', testid: 'replay', text: 'Replay' });
  replay.addEventListener('click', () => {
    const spot = spotOf(replay); // before it is disabled: the focus leaves it then
    replay.disabled = true;
    run(() =>
      thenReload(async () => {
        try {
          await api(`${HOME}/api/dead-letters/${encodeURIComponent(d.id)}/replay`, { method: 'POST' });
          setStatus(`Replayed dead letter ${d.id}: the message is queued again.`);
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 404)) throw error;
          setStatus(`Dead letter ${d.id} is gone already (replayed, dropped or purged elsewhere).`, true);
        }
      }, spot),
    );
  });
  const drop = el('button', { type: 'button', className: 'small danger', testid: 'drop', text: 'Drop…' });
  drop.addEventListener('click', () => askDrop(d.id));
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
    el('td', { className: 'actions' }, replay, ' ', drop, ' ', toggle),
    el('td', { className: 'time', text: fmtShortTime(d.failedAt), title: fmtTime(d.failedAt) }),
    el('td', { className: 'mono clip', text: d.id, title: d.id }),
    el('td', { text: d.platform }),
    el('td', { className: 'clip', text: d.user, title: d.conversation ? `conversation ${d.conversation}` : undefined }),
    el('td', { className: 'wrap', testid: 'dead-letter-text' }, ...clampedCell(d.id, 'text', d.text)),
    el('td', { text: d.reason }),
    el('td', { className: 'wrap', testid: 'dead-letter-error' }, ...clampedCell(d.id, 'error', d.error)),
    el('td', { className: 'num', text: fmtInt(d.attempts) }),
  );
  return [row, payloadRow];
}

/** A letter's text or error, a few lines of it until "show all" (a pasted log must not fill the screen). */
function clampedCell(id, field, text) {
  const key = `${id} ${field}`;
  const onToggle = (open) => (open ? openCells.add(key) : openCells.delete(key));
  return clampedText(text, { open: openCells.has(key), onToggle, testid: `${field}-toggle` });
}

export function replayAll() {
  const button = $('replay-all');
  button.disabled = true;
  run(() =>
    thenReload(async () => {
      const data = await api(`${HOME}/api/dead-letters/replay-all`, { method: 'POST' });
      const n = data?.replayed ?? 0;
      setStatus(`Replayed ${fmtInt(n)} dead letter${n === 1 ? '' : 's'}.`);
    }, { testid: 'replay-all', index: -1 }),
  );
}

export function askPurge() {
  const dialog = $('purge-dialog');
  setText($('purge-count'), total === 1 ? 'the 1 dead letter' : total ? `all ${fmtInt(total)} dead letters` : 'every dead letter');
  dialog.returnValue = '';
  dialog.showModal();
}

export function purgeDialogClosed() {
  if ($('purge-dialog').returnValue !== 'purge') {
    setStatus('Purge cancelled: nothing was deleted.');
    return;
  }
  run(() =>
    thenReload(async () => {
      const data = await api(`${HOME}/api/dead-letters/purge`, { body: { confirm: 'purge' } });
      const n = data?.purged ?? 0;
      setStatus(`Purged ${fmtInt(n)} dead letter${n === 1 ? '' : 's'}.`);
    }, { testid: 'purge', index: -1 }),
  );
}

function askDrop(id) {
  dropping = id;
  setText($('drop-id'), id);
  const dialog = $('drop-dialog');
  dialog.returnValue = '';
  dialog.showModal();
}

export function dropDialogClosed() {
  const id = dropping;
  dropping = undefined;
  if ($('drop-dialog').returnValue !== 'drop' || id === undefined) {
    setStatus(`Drop cancelled: dead letter ${id} is kept.`);
    return;
  }
  run(() =>
    thenReload(async () => {
      try {
        await api(`${HOME}/api/dead-letters/${encodeURIComponent(id)}/drop`, { body: { confirm: 'drop' } });
        setStatus(`Dropped dead letter ${id}.`);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
        setStatus(`Dead letter ${id} is gone already (replayed, dropped or purged elsewhere).`, true);
      }
    }),
  );
}

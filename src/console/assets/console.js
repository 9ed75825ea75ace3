/* global document, window, location */
/**
 * The operator console's page (app.html). Plain DOM, no framework, no build step: ES modules of
 * one job each, this one the entry (the tabs, and starting the page). They read the JSON API of
 * src/console/api.ts. Everything that comes from the API is rendered with textContent or
 * attributes, never as HTML: transcripts and dead letters hold whatever people wrote.
 */
import { leave, run, setStatus } from './api.js';
import { loadBudgets } from './budgets.js';
import { setUpLimitForms } from './budget-limits.js';
import { closeTranscript, loadConversations, openTranscript, showMoreConversations } from './conversations.js';
import { askPurge, dropDialogClosed, loadDeadLetters, purgeDialogClosed, replayAll, showMoreDeadLetters } from './dead-letters.js';
import { $ } from './dom.js';
import { startOverview } from './overview.js';

const VIEWS = ['overview', 'conversations', 'dead-letters', 'budgets'];

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

/** The open tab follows what the live overview says changed: a new dead letter, a budget or alert moving. */
function followOverview(previous, o) {
  if (current === 'dead-letters' && previous.queue?.dead !== o.queue?.dead) run(loadDeadLetters);
  if (current === 'budgets' && JSON.stringify([previous.budgets, previous.alerts]) !== JSON.stringify([o.budgets, o.alerts])) run(loadBudgets);
}

// ---------------------------------------------------------------- start

function start() {
  window.addEventListener('hashchange', route);
  window.addEventListener('pagehide', leave);
  // back from the back/forward cache with the stream closed: start over
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) location.reload();
  });
  document.querySelector('form.signout').addEventListener('submit', leave);

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
  $('show-more').addEventListener('click', () => run(showMoreConversations));
  $('transcript-close').addEventListener('click', () => {
    location.hash = '#conversations';
  });

  $('dead-refresh').addEventListener('click', () => run(loadDeadLetters));
  $('dead-show-more').addEventListener('click', () => run(showMoreDeadLetters));
  $('replay-all').addEventListener('click', replayAll);
  $('purge').addEventListener('click', askPurge);
  $('purge-dialog').addEventListener('close', purgeDialogClosed);
  $('drop-dialog').addEventListener('close', dropDialogClosed);
  $('budgets-refresh').addEventListener('click', () => run(loadBudgets));
  const lookup = $('budget-lookup');
  lookup.addEventListener('submit', (event) => {
    event.preventDefault();
    run(loadBudgets);
  });
  let looking = null;
  lookup.addEventListener('input', () => {
    clearTimeout(looking);
    looking = setTimeout(() => run(loadBudgets), 300);
  });
  setUpLimitForms(loadBudgets);

  route();
  startOverview(followOverview);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();

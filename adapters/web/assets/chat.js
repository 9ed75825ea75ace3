/* global document, window, EventSource */
/**
 * The web chat's client, shared by the full page (/) and the frame a website embeds through
 * widget.js (/web/frame). Plain DOM, no framework, no build step: ES modules of one job each.
 * This one runs the chat: the conversation on show, followed live over EventSource, the composer,
 * a new chat, deleting one (after the confirm dialog), and the start.
 *
 * - api.js: the visitor session and the chat API calls.
 * - transcript.js: the messages as DOM (markdown.js for answers), 👍/👎, thinking dots, status line.
 * - frame.js: the frame's title, colour and close button, from the widget.
 * - The server mints the conversation id on the first message; it is kept in sessionStorage.
 */
import { api, ApiError, eventsUrl, latestConversation, messageId, postMessage as post, problem, readJson, renewIfStale, session, startSession, whenRenewalFails } from './api.js';
import { dressFrame } from './frame.js';
import { clearTranscript, connectionBack, conversation, holdConversation, render, setStatus, startThinking, stopThinking } from './transcript.js';

const $ = (id) => document.getElementById(id);
const FRAME = document.body.classList.contains('frame');

const input = $('input');
const sendBtn = $('send');
const deleteBtn = $('delete');
const confirmDialog = $('confirm-delete');

if (FRAME) dressFrame();

// ------------------------------------------------------------------ following the conversation

let generation = 0; // bumped whenever the shown conversation changes; stale answers are dropped
let source = null;
let reconnectTimer = 0;
let reconnectDelay = 1000;

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
      // A 503 (its store not answering) is passing, and says nothing of the messages sent: it is retried.
      setStatus(res.status === 503 ? 'The chat is reconnecting…' : problem(res, body), true, true);
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
  const stream = new EventSource(eventsUrl(conversationPath(id)));
  source = stream;
  // The transcript as this stream told it: each (re)connection's first event is whole, then each
  // says what changed (the oldest `dropped` gone, `added` appended).
  let shown = [];
  stream.onmessage = (event) => {
    if (gen !== generation) return;
    reconnectDelay = 1000;
    try {
      const data = JSON.parse(event.data);
      shown = Array.isArray(data.messages) ? data.messages : shown.slice(data.dropped || 0).concat(data.added || []);
      render(shown);
      connectionBack();
    } catch { /* a malformed event (never sent): skipped */ }
  };
  // The server ends a stream by plan (its maximum age, its token's expiry) with this event first.
  let planned = false;
  stream.addEventListener('reconnect', () => {
    planned = true;
  });
  stream.onerror = () => {
    if (gen !== generation) return;
    if (planned) {
      // Ended by plan, its slot freed: a fresh stream at once (the current session's token), no backoff
      // and no transcript read (the new stream's first event brings it; unchanged, it is not drawn again).
      stream.close();
      connect();
      return;
    }
    // Cut (offline, a server restart): the browser reconnects by itself, and its next event clears this.
    if (stream.readyState !== EventSource.CLOSED) return setStatus('The chat is reconnecting…', true, true);
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
  holdConversation(id);
  deleteBtn.disabled = !id;
  if (!FRAME) $('subtitle').textContent = id ? `web chat — conversation ${id.slice(0, 8)}` : 'web chat';
  clearTranscript();
  // Resolves once the transcript was read (or found gone: 404) and the stream opened.
  return id ? fetchTranscript().then((exists) => exists && connect()) : Promise.resolve();
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
/** Sent with its id on a network failure or a 503, while this conversation is still the one on show. */
const postMessage = (body, gen) => post(body, () => gen === generation, () => setStatus('Connection trouble — sending again…', true, true));
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
  await started;
  let gen = generation;
  try {
    let res = await postMessage(conversation ? { conversation, text, id } : { text, id }, gen);
    if (res.status === 404 && conversation && gen === generation) {
      // The conversation expired or was erased elsewhere: this message starts a new one.
      showConversation(null);
      startThinking();
      gen = generation;
      res = await postMessage({ text, id }, gen);
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
    connectionBack();
    if (!conversation && body && typeof body.conversation === 'string') {
      showConversation(body.conversation);
      startThinking();
    } else if (!source || source.readyState !== EventSource.OPEN) {
      // An open stream brings the message and its answer; read the transcript only without one.
      fetchTranscript();
    }
  } catch (error) {
    if (gen !== generation) return;
    stopThinking();
    setStatus(error instanceof ApiError ? error.message : 'Cannot reach the server: your message may not have been sent. It is sent again when you are back online, or send it yourself (it is answered once).', true);
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
    input.focus(); // not back on Delete chat: it is disabled now, and the focus would fall to the page
    deleteConversation();
  });
}
// Back from a sleeping laptop or a hidden tab: renew a stale session and catch up.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible' || !session) return;
  renewIfStale();
  if (conversation && !source) fetchTranscript();
});
window.addEventListener('pagehide', () => source && source.close());
// Back online: the message given back after a failed send goes again by itself, if it is still as it was.
window.addEventListener('online', () => {
  if (unsent && input.value === unsent.text) send();
});

// ------------------------------------------------------------------ start

whenRenewalFails(() => setStatus('Cannot renew the chat session — retrying…', true, true));

updateSend();
render([]);
deleteBtn.disabled = true;
setStatus('Connecting…');
/** The start: a session, then the conversation on show; a message sent meanwhile waits for it. */
const started = startSession().then(
  async () => {
    setStatus('');
    // A tab that never showed one (a second tab, another page of the site): the visitor's latest, as in their other tabs.
    // Awaited: a message sent meanwhile must not go to a conversation found gone (404) just after.
    await showConversation(conversation === null ? await latestConversation() : conversation);
  },
  (error) => setStatus(error instanceof ApiError ? error.message : 'Cannot reach the server. Reload the page to try again.', true),
);
if (!FRAME) input.focus();

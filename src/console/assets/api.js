/* global location, fetch */
/**
 * The console's JSON API (src/console/api.ts) as the page calls it, the status line its failures
 * are shown on, and the page's leaving: once it goes (signed out, navigated away) nothing reports.
 */
import { $ } from './dom.js';

// The console's own path, mount prefix included (/console, or /bot/console under app.use('/bot', …)).
export const HOME = new URL('../', import.meta.url).pathname.replace(/\/$/, '');

export class SignedOut extends Error {}
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let leaving = false;
const onLeave = [];

export const isLeaving = () => leaving;

/** Run `stop` when the page goes (the live stream closes then). */
export function whenLeaving(stop) {
  onLeave.push(stop);
}

/** The page is going: stop what runs by itself, and report no more failures. */
export function leave() {
  leaving = true;
  for (const stop of onLeave) stop();
}

/** Fetch JSON from the console API; a 401 sends the browser to the sign-in page. */
export async function api(path, { body, method } = {}) {
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
  leave();
  location.assign(HOME);
}

/** Run an async action; its failure becomes the status line (never an unhandled rejection). */
export function run(action) {
  Promise.resolve()
    .then(action)
    .catch((error) => {
      if (leaving || error instanceof SignedOut) return;
      setStatus(error instanceof ApiError ? `Failed (${error.status}): ${error.message}` : `Failed: ${error?.message ?? error}`, true);
    });
}

export function setStatus(text, isError = false) {
  const status = $('status');
  status.classList.toggle('error', isError);
  status.setAttribute('role', isError ? 'alert' : 'status');
  status.textContent = text;
}

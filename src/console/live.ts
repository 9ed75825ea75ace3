/** GET /console/api/events: the live overview, sent as server-sent events. */
import type { HttpResponse } from '../adapter.js';
import { outageOf } from './outage.js';
import type { ConsoleDeps } from './routes.js';
import { overview } from './views.js';

const LIVE_EVERY_MS = 2000;
/** Overviews a live stream's client may leave untaken before it is taken for gone. */
const LIVE_STALLED_AFTER = 15;

/** The overview now and every 2 s (`unavailable` instead while it cannot be read), until the client goes, the bot closes, or the session it was opened with expires or is signed out. */
export function live(deps: ConsoleDeps, signedIn: () => Promise<boolean>): HttpResponse {
  async function* events(): AsyncGenerator<string> {
    yield 'retry: 5000\n\n';
    while (!deps.closing.aborted) {
      // A tab left open past its 12 hours, or whose session was signed out (in any process: one read of
      // one key a tick), stops here; its reconnect is refused (401).
      if (!(await signedIn())) return;
      try {
        yield `event: overview\ndata: ${JSON.stringify(await overview(deps))}\n\n`;
      } catch (error) {
        deps.logger.warn({ err: error }, 'could not build the console overview');
        // A real event (a comment never reaches the page): the page marks its figures stale.
        yield `event: unavailable\ndata: ${JSON.stringify({ ...(await outageOf(error, deps.ping)), at: new Date().toISOString() })}\n\n`;
      }
      await pause(LIVE_EVERY_MS, deps.closing);
    }
  }
  // nginx passes each overview on at once, and an app's compression() middleware does too (no-transform:
  // it would hold them in its gzip buffer); a tab that takes nothing for 15 of them (a frozen tab, a
  // dead link) is cut rather than held until TCP gives up.
  const headers = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' };
  return { status: 200, headers, stream: events(), stallTimeoutMs: LIVE_STALLED_AFTER * LIVE_EVERY_MS };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

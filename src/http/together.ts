/**
 * Requests that arrive together are handled together. Node's server reads every socket that has
 * data in one poll phase of the event loop and, left alone, runs each request's handling inside its
 * own socket's read callback: read, handle, answer, then the next socket. parley starts them instead
 * in the check phase right after that poll phase (`setImmediate`), one after the other, so the
 * requests of a burst run interleaved at their awaits and their answers are written back to back:
 * the same code run for a burst costs each request less CPU than run once per socket between
 * reads (a Slack ack on memory about 145 → 112 µs: docs/performance.md, the thirty-sixth look).
 * One request alone waits only for the rest of its loop turn.
 *
 * `setImmediate` from `node:timers`, not the global: a test's fake timers (which replace the
 * global) must not hold every request back.
 */
import { setImmediate } from 'node:timers';

/** Kept as loaded: `module.syncBuiltinESMExports()` under fake timers would otherwise hand the import a fake. */
const inCheckPhase = setImmediate;

let waiting: Array<() => void> = [];

/** Run `start` in this loop turn's check phase, after the starts already waiting. It must not throw (an async function's call never does). */
export function startTogether(start: () => void): void {
  waiting.push(start);
  if (waiting.length === 1) inCheckPhase(startWaiting);
}

function startWaiting(): void {
  const starts = waiting;
  waiting = [];
  for (const start of starts) start();
}

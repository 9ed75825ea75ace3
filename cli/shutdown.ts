import { constants } from 'node:os';
import type { Bot } from '../src/index.js';
import { logLost } from '../src/lost-messages.js';
import { stopWithNpm } from './npm-parent.js';

/**
 * A signal this soon after the first is the same one delivered twice, not the operator asking
 * again: Ctrl-C reaches the whole process group, and npm passes its copy on to its child, which is
 * parley itself wherever the script shell execs the command (bash).
 */
const SAME_SIGNAL_MS = 250;

/**
 * On SIGTERM / SIGINT: stop taking work, let running jobs finish (bot.close), exit 0. With a
 * shutdown delay (`delayMs`, `parley serve`'s SHUTDOWN_DELAY_MS) requests are still served for
 * that long first, and a second SIGTERM ends it at once. A second SIGINT (Ctrl-C pressed again),
 * or a second SIGTERM during the drain, exits at once. Returns whether that shutdown has begun, so
 * a start that ends during it does not announce itself as running.
 */
export function closeOnSignals(bot: Bot, delayMs = 0): () => boolean {
  let stoppedAt: number | undefined;
  const delay = new AbortController();
  let delayEnds = 0;
  const stop = (signal: string) => {
    if (stoppedAt !== undefined) {
      if ((signal !== 'SIGINT' && signal !== 'SIGTERM') || Date.now() - stoppedAt < SAME_SIGNAL_MS) return;
      // Asked again while still waiting for the load balancer: close the port now, but still let running jobs finish.
      if (signal === 'SIGTERM' && Date.now() < delayEnds && !delay.signal.aborted) {
        stoppedAt = Date.now();
        tryToLog(() => bot.logger.info({ signal }, 'second SIGTERM: ending the shutdown delay'));
        delay.abort();
        return;
      }
      exitNow(bot, signal);
      return;
    }
    stoppedAt = Date.now();
    delayEnds = stoppedAt + delayMs;
    // Armed before any log line: bot.close() is bounded by the delay + SHUTDOWN_TIMEOUT_MS, this is the backstop
    // should anything still hang, and a logger that fails (stdout a closed pipe) cannot keep it from exiting.
    setTimeout(() => {
      tryToLog(() => bot.logger.error({ signal }, 'shutdown still not finished well past SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS; exiting'));
      nameLost(bot, 'shutdown did not end');
      process.exit(1);
    }, delayMs + bot.config.shutdownTimeoutMs + 5000).unref();
    const then = delayMs > 0 ? 'after the shutdown delay, no new requests' : 'no new requests';
    tryToLog(() => bot.logger.info({ signal }, `shutting down: ${then}, finishing running jobs`));
    void bot.close({ delayMs, signal: delay.signal }).then(
      ({ unfinished }) => {
        tryToLog(() => bot.logger.info({ unfinished }, 'stopped'));
        process.exit(0);
      },
      (error: unknown) => {
        tryToLog(() => bot.logger.error({ err: error }, 'shutdown failed'));
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  stopWithNpm(() => stop('npm stopped'));
  return () => stoppedAt !== undefined;
}

/**
 * The operator asked twice: exit without waiting for the drain, as Node tools do on a second
 * Ctrl-C, with the shell's code for death by that signal (130 for SIGINT, 143 for SIGTERM).
 */
function exitNow(bot: Bot, signal: 'SIGINT' | 'SIGTERM'): void {
  tryToLog(() => bot.logger.warn({ signal }, `second ${signal}: exiting now, without waiting for running jobs to finish`));
  nameLost(bot, `second ${signal}`);
  process.exit(128 + constants.signals[signal]);
}

/** Exiting before bot.close() could name them: the messages this process holds only in memory, named as close() would. */
function nameLost(bot: Bot, exit: string): void {
  tryToLog(() => {
    const lost = bot.unanswered();
    if (lost.length > 0) logLost(bot.logger, lost, { exit });
  });
}

/** A log line on the way out is worth less than getting out. */
function tryToLog(log: () => void): void {
  try {
    log();
  } catch {
    // the destination failed; exiting matters more
  }
}

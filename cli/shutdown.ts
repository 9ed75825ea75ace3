import type { Bot } from '../src/index.js';

/** On SIGTERM / SIGINT: stop taking work, let running jobs finish (bot.close), exit 0. */
export function closeOnSignals(bot: Bot): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Armed before any log line: bot.close() is bounded by SHUTDOWN_TIMEOUT_MS, this is the backstop
    // should anything still hang, and a logger that fails (stdout a closed pipe) cannot keep it from exiting.
    setTimeout(() => {
      tryToLog(() => bot.logger.error({ signal }, 'shutdown still not finished well past SHUTDOWN_TIMEOUT_MS; exiting'));
      process.exit(1);
    }, bot.config.shutdownTimeoutMs + 5000).unref();
    tryToLog(() => bot.logger.info({ signal }, 'shutting down: no new requests, finishing running jobs'));
    void bot.close().then(
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
}

/** A log line on the way out is worth less than getting out. */
function tryToLog(log: () => void): void {
  try {
    log();
  } catch {
    // the destination failed; exiting matters more
  }
}

import type { Bot } from '../src/index.js';

/** On SIGTERM / SIGINT: stop taking work, let running jobs finish (bot.close), exit 0. */
export function closeOnSignals(bot: Bot): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    bot.logger.info({ signal }, 'shutting down: no new requests, finishing running jobs');
    // bot.close() is bounded by SHUTDOWN_TIMEOUT_MS; this is the backstop should anything still hang.
    setTimeout(() => {
      bot.logger.error({ signal }, 'shutdown still not finished well past SHUTDOWN_TIMEOUT_MS; exiting');
      process.exit(1);
    }, bot.config.shutdownTimeoutMs + 5000).unref();
    void bot.close().then(
      ({ unfinished }) => {
        bot.logger.info({ unfinished }, 'stopped');
        process.exit(0);
      },
      (error: unknown) => {
        bot.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

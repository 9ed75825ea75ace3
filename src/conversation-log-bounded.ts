/**
 * The conversation log as a message answered in this process while Redis is down writes it: each
 * write is waited for a moment, then the message goes on. On Redis the log is on the workers'
 * patient connection, which holds a command through some 30 reconnects (about a minute) before it
 * fails it, and a command behind an auto-pipeline still waiting there waits that long again after
 * it: waited for, the write kept the message's work from ending ("message answered" never came,
 * shutdown waited for it and counted it lost) for minutes after its reply was posted.
 */
import type { Logger } from 'pino';
import type { ConversationLog } from './conversation-log.js';
import { notWritten, type LogFailures } from './exchange-log.js';
import { withTimeout } from './timeout.js';

/**
 * How long a write or read of the log is waited for: a reachable store answers well within it.
 * Past it the write goes on without the message, and lands once Redis is back (or is logged as lost).
 */
export const LOG_WAIT_MS = 1500;

/**
 * `log`, whose `record` resolves after LOG_WAIT_MS at the latest: a write still under way then goes
 * on, and its failure, should it come, is logged and counted as any unwritten exchange is (never
 * twice: one that fails in time rejects, and the caller logs it). `list` (read before writing an
 * exchange a retry may have written already) rejects after that long: the exchange is not written.
 */
export function boundedLog(log: ConversationLog, logger: Logger, metrics: LogFailures, waitMs = LOG_WAIT_MS): ConversationLog {
  return {
    record: (entry) =>
      new Promise<void>((resolve, reject) => {
        let waited = false;
        const timer = setTimeout(() => {
          waited = true;
          logger.debug({ platform: entry.platform, waitMs }, 'the conversation log has not taken the exchange yet (Redis down?); the message goes on, the write is sent once it is back');
          resolve();
        }, waitMs);
        log.record(entry).then(
          () => (clearTimeout(timer), resolve()),
          (error: unknown) => {
            clearTimeout(timer);
            if (waited) notWritten(logger, metrics, entry.platform, error);
            else reject(error);
          },
        );
      }),
    list: (conversationId, limit) => withTimeout(log.list(conversationId, limit), waitMs, `the conversation log did not answer within ${waitMs} ms`),
  };
}

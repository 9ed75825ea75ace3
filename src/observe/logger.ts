import { pino, type Logger } from 'pino';

/**
 * Paths pino censors wherever they appear in a log object. Secrets never reach a log line;
 * the signature headers are redacted too since they let a reader replay a request.
 */
export const redactPaths = [
  'authorization',
  'token',
  'apiKey',
  'secret',
  '*.authorization',
  '*.token',
  '*.apiKey',
  '*.secret',
  '*.password',
  'headers.authorization',
  'headers.cookie',
  'headers["x-slack-signature"]',
  'headers["x-twilio-signature"]',
  'headers["x-hub-signature"]',
  'req.headers.authorization',
  'req.headers.cookie',
  // HTTP clients' errors (axios) carry the request's credentials.
  '*.headers.Authorization',
  'err.config.headers.Authorization',
  'err.config.auth',
];

export type LogFormat = 'auto' | 'json' | 'pretty';

/** JSON lines are written once this many bytes are waiting, or after FLUSH_MS. */
const BATCH_BYTES = 12_288;
const FLUSH_MS = 100;

/**
 * The parley logger, secrets redacted: JSON lines on stdout, or — on a terminal (`auto`) or with
 * `pretty` — one coloured line per entry through pino-pretty, in a worker thread as pino advises.
 *
 * JSON lines are written asynchronously (pino's `sync: false`) and a few kilobytes at a time, or
 * every FLUSH_MS when fewer come, instead of one write system call per line: with a request line
 * per webhook, that call alone was a tenth of the ack path's CPU. pino flushes what is left when the
 * process exits. On AWS Lambda, whose process is frozen between invocations, lines stay synchronous.
 */
export function createLogger(level = 'info', format: LogFormat = 'json'): Logger {
  const options = { name: 'parley', level, redact: { paths: redactPaths, censor: '[redacted]' } };
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!pretty) return pino(options, process.env.AWS_LAMBDA_FUNCTION_NAME ? pino.destination({ dest: 1, sync: true }) : batchedStdout());
  return pino(options, pino.transport({ target: 'pino-pretty', options: { colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' } }));
}

/**
 * stdout, written asynchronously in batches of BATCH_BYTES, and flushed FLUSH_MS after a line when
 * fewer come. Not sonic-boom's own periodicFlush: it writes even when nothing waits (an empty
 * write through the thread pool ten times a second, waking an idle process each time).
 */
function batchedStdout(): ReturnType<typeof pino.destination> {
  const destination = pino.destination({ dest: 1, sync: false, minLength: BATCH_BYTES });
  const write = destination.write.bind(destination);
  let pending: NodeJS.Timeout | undefined;
  destination.write = (line: string) => {
    pending ??= setTimeout(() => {
      pending = undefined;
      try {
        destination.flush();
      } catch {
        // closed at exit: pino has flushed what was left
      }
    }, FLUSH_MS).unref();
    return write(line);
  };
  return destination;
}

export type { Logger };

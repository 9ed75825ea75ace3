import fs from 'node:fs';
import { pino, type Logger } from 'pino';
import { frozenOnceAnswered } from '../frozen.js';
import { hideSecrets } from '../secret-values.js';

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

/** Keys whose values are credentials, at any depth of a payload or an error logged whole. */
const SECRET_KEY = /^(?:token|secret|password|authorization|api_?key|client_secret|access_token|refresh_token|bot_token)$/i;

/**
 * pino's error serializer, then over the whole serialized error (its `data`, a response or request
 * echoed back, nested errors): the arguments of the command a Redis error carries (ioredis'
 * `err.command.args`: the AUTH password, a job's message text, the AI's answer; the command's name
 * stays), credential-named fields, and in every string the configured secrets and anything shaped
 * like a Slack token (hideSecrets) — a Slack error's `data` can hold the request a proxy echoed.
 */
export function serializeError(error: unknown): unknown {
  return cleaned(withShortMessage(withPermissionHint(error, withCausesOnce(error, pino.stdSerializers.err(error as Error)))), 0);
}

/** What an ACL user's refusal (Redis's NOPERM) is followed by in a log line: what to do about it. */
export const REDIS_PERMISSION_HINT =
  " (Redis refuses this to the user parley connects as, so messages cannot be taken or answered: `parley check` names the ACL to allow; see \"an ACL limited to the bot's keys\" in the README)";

/**
 * An ACL user refused a command (NOPERM) wherever it surfaces (a webhook's 503, the intake's pump, a
 * worker's queue), itself or wrapped (an error's cause, an AggregateError's errors): the line says
 * what to do, as `parley check` does, without a probe of its own.
 */
function withPermissionHint(error: unknown, serialized: unknown): unknown {
  const s = serialized as { message?: unknown } | undefined;
  if (typeof s?.message !== 'string' || s.message.includes(REDIS_PERMISSION_HINT) || !refusedByAcl(error)) return serialized;
  return { ...s, message: s.message + REDIS_PERMISSION_HINT };
}

/** How many errors refusedByAcl reads at most (the error, its causes, their errors…): a line is written per failure. */
const MAX_WRAPPED_ERRORS = 32;

/** Whether the error is a NOPERM or wraps one (its cause chain, an AggregateError's errors), each read once. */
function refusedByAcl(error: unknown): boolean {
  const queue: unknown[] = [error];
  const seen = new Set<unknown>();
  while (queue.length > 0 && seen.size < MAX_WRAPPED_ERRORS) {
    const next = queue.shift();
    if (!isErrorLike(next) || seen.has(next)) continue;
    seen.add(next);
    if (next.message.startsWith('NOPERM')) return true;
    const { errors } = next as { errors?: unknown };
    queue.push(next.cause, ...(Array.isArray(errors) ? errors.slice(0, MAX_WRAPPED_ERRORS) : []));
  }
  return false;
}

/**
 * pino adds each cause's message to the error's; one the message already quotes (an AiError's
 * "AI provider answered <the SDK error's message>") is left out, so the line says it once.
 */
function withCausesOnce(error: unknown, serialized: unknown): unknown {
  const s = serialized as { message?: unknown } | undefined;
  if (!(error instanceof Error) || typeof s?.message !== 'string' || typeof error.cause === 'function') return serialized;
  let message = error.message;
  const seen = new Set<unknown>([error]);
  for (let cause = error.cause; isErrorLike(cause) && !seen.has(cause); cause = cause.cause) {
    seen.add(cause);
    if (!message.includes(cause.message)) message += `: ${cause.message}`;
  }
  return message === s.message ? serialized : Object.assign(s, { message });
}

function isErrorLike(value: unknown): value is { message: string; cause?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/**
 * An error's message past this is cut in its line (and in its stack, which repeats it): a provider
 * or a platform may put a whole answer in it (a proxy's page, a body quoted back), and the line is
 * written for each message it fails. Any other string of an error is cut at MAX_ERROR_STRING.
 */
export const MAX_ERROR_MESSAGE = 1_000;
const MAX_ERROR_STRING = 4_000;

function withShortMessage(serialized: unknown): unknown {
  const s = serialized as { message?: unknown; stack?: unknown } | undefined;
  if (typeof s?.message !== 'string' || s.message.length <= MAX_ERROR_MESSAGE) return serialized;
  // Secrets hidden before the cut, which could leave a secret's start that no longer reads as one.
  const message = cut(hideSecrets(s.message), MAX_ERROR_MESSAGE);
  // The stack's first line is the message: cut there, its frames are kept. A function, so a `$&` in the message is no pattern.
  const stack = typeof s.stack === 'string' ? s.stack.replace(s.message, () => message) : s.stack;
  return { ...s, message, ...(stack === undefined ? {} : { stack }) };
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** Deeper than this in an error, an object is left out of the line. */
const MAX_ERROR_DEPTH = 8;

function cleaned(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return cut(hideSecrets(value), MAX_ERROR_STRING);
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_ERROR_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => cleaned(item, depth + 1));
  // What JSON would write for it (a URL's href, a Date's text), cleaned the same way.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return cleaned(jsonOf(value as { toJSON(): unknown }), depth + 1);
  const copy: Record<string, unknown> = {};
  // Wherever a Redis error sits: a cause, a pipeline's previousErrors, an AggregateError's
  // aggregateErrors, or a property of an app's own error.
  for (const [key, nested] of Object.entries(value)) {
    if (SECRET_KEY.test(key)) copy[key] = '[redacted]';
    else if (key === 'command' && typeof nested === 'object' && nested !== null && 'args' in nested) copy[key] = cleaned({ ...nested, args: '[redacted]' }, depth + 1);
    else copy[key] = cleaned(nested, depth + 1);
  }
  return copy;
}

function jsonOf(value: { toJSON(): unknown }): unknown {
  try {
    return value.toJSON();
  } catch {
    return '[unserializable]';
  }
}

/** How deep a logged payload is copied; an object or array below that is logged as '[too deep]'. */
const MAX_PAYLOAD_DEPTH = 16;

/**
 * A copy of a payload (a platform's webhook body, logged whole at debug level) with every
 * credential-named field redacted however deep it sits: pino's paths reach one level down only,
 * and a Socket Mode envelope holds its interaction's `token` two levels down. Past
 * MAX_PAYLOAD_DEPTH a subtree is replaced, never passed on unread (a secret in it would go out).
 */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_PAYLOAD_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, nested] of Object.entries(value)) copy[key] = SECRET_KEY.test(key) ? '[redacted]' : redactDeep(nested, depth + 1);
  return copy;
}

export type LogFormat = 'auto' | 'json' | 'pretty';

/** JSON lines are written once this many bytes are waiting, or after FLUSH_MS. */
const BATCH_BYTES = 12_288;
const FLUSH_MS = 100;

/** What parley's logger hides, whatever it writes to. */
export function loggerOptions(level: string) {
  return { name: 'parley', level, redact: { paths: redactPaths, censor: '[redacted]' }, serializers: { err: serializeError } };
}

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
  const options = loggerOptions(level);
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!pretty) return pino(options, frozenOnceAnswered() ? pino.destination({ dest: 1, sync: true }) : batchedStdout());
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
  stopWritingOnError(destination);
  return destination;
}

/**
 * A destination that fails (stdout a closed pipe: `parley serve | head -1`) stops being written to.
 * pino drops lines after an EPIPE it hears of, but sonic-boom's flushSync, which pino runs at exit,
 * retries a failing write forever, 100 ms apart: with the lines of a quick shutdown still waiting,
 * process.exit never returned and no timer or second signal could end the process. A line that
 * cannot be written at exit is dropped instead.
 */
function stopWritingOnError(destination: ReturnType<typeof pino.destination>): void {
  let failed = false;
  const stop = () => {
    failed = true;
    destination.write = () => true;
    destination.flush = () => undefined;
    destination.flushSync = () => undefined;
  };
  destination.on('error', stop);
  const flushSync = destination.flushSync.bind(destination);
  destination.flushSync = () => {
    if (failed) return;
    // flushSync is synchronous, so this stand-in is the only writeSync anything sees meanwhile.
    const writeSync = fs.writeSync;
    fs.writeSync = ((fd: number, data: string | NodeJS.ArrayBufferView, ...rest: never[]) => {
      if (failed) return byteLength(data);
      try {
        return writeSync(fd, data as string, ...rest);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') throw error; // a slow reader: sonic-boom waits for it
        failed = true;
        return byteLength(data); // reported written, so sonic-boom moves on
      }
    }) as typeof fs.writeSync;
    try {
      flushSync();
    } finally {
      fs.writeSync = writeSync;
      if (failed) stop();
    }
  };
}

function byteLength(data: string | NodeJS.ArrayBufferView): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

export type { Logger };

/**
 * The Slack SDKs' logger (Bolt's App, the Web API clients, Socket Mode, the OAuth installer): their
 * lines go to parley's pino logger as JSON lines with `component: "slack-sdk"`, at LOG_LEVEL, like
 * every other line, instead of the SDKs' own console lines, which a log collector cannot parse. A
 * developer's Bolt listener gets it as its `logger` too.
 *
 * The SDKs' debug lines are not passed on: they hold whole request and response bodies, which the
 * Web API client redacts only for keys named like a token (an OAuth code exchange's client_secret
 * would reach the log). Their setLevel is ignored: LOG_LEVEL decides. Before the adapter has
 * started there is no logger; what the SDKs say then is dropped. The Web API client's "http request
 * failed" warnings are written at debug: each attempt would repeat what parley logs once. Their
 * warnings are summarised (observe/log-summary.ts): one line a minute per text, not one per call.
 */
import type { LogLevel, Logger as SdkLogger } from '@slack/bolt';
import type { Logger } from 'pino';
import { hideSecrets, hideSecretsIn, leftOutFields, logSummaryOf } from 'parley/adapter-kit';

type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * The Web API client's warning for each request that got no answer (Slack unreachable): at debug.
 * The call's caller reports the failure (a failed start once per change of state, a reply's retry).
 */
const REQUEST_FAILED = 'http request failed';

export function slackSdkLogger(logger: () => Logger | undefined): SdkLogger {
  let name = 'slack';
  const current = (): Logger | undefined => {
    try {
      return logger();
    } catch {
      return undefined; // not started yet
    }
  };
  const write = (level: Level, given: unknown[]) => {
    const log = current();
    if (!log?.isLevelEnabled(level)) return;
    const args = withoutForEachArguments(given);
    const err = args.find((arg): arg is Error => arg instanceof Error);
    // Slack's response_metadata.messages and errors may quote a token back: never in the log.
    const text = hideSecrets(args.filter((arg) => arg !== err).map(show).join(' '));
    if (err) hideSecretsIn(err);
    const msg = text || (err?.message ?? '');
    // A warning Slack attaches to every answer (`method_deprecated` for months) would be a line per
    // call: summarised as refusals are, the first of a text a minute, the next saying how many were left out.
    const leftOut = level === 'warn' ? logSummaryOf(log).takeOf('slack-sdk warn', msg) : 0;
    if (leftOut === undefined) return;
    log[level]({ component: 'slack-sdk', sdk: name, ...(err ? { err } : {}), ...leftOutFields(leftOut) }, msg);
  };
  return {
    debug: () => undefined,
    info: (...args: unknown[]) => write('info', args),
    warn: (...args: unknown[]) => write(args[0] === REQUEST_FAILED ? 'debug' : 'warn', args),
    error: (...args: unknown[]) => write('error', args),
    setLevel: () => undefined,
    // At most "info": an SDK that asks before building a debug line need not build it.
    getLevel: () => sdkLevel(current()),
    setName: (value: string) => void (name = value),
  };
}

/** pino's level as the SDKs name theirs, never finer than info (debug is not passed on). */
function sdkLevel(logger: Logger | undefined): LogLevel {
  if (!logger || logger.isLevelEnabled('info')) return 'info' as LogLevel;
  return (logger.isLevelEnabled('warn') ? 'warn' : 'error') as LogLevel;
}

/**
 * The Web API client logs a response's warnings with `warnings.forEach(logger.warn)`, which passes
 * each one with its index and the whole array: the line is the warning alone.
 */
function withoutForEachArguments(args: unknown[]): unknown[] {
  const [value, index, array] = args;
  return args.length === 3 && typeof index === 'number' && Array.isArray(array) && array[index] === value ? [value] : args;
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

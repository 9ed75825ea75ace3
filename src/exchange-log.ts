/**
 * Writing a message's exchange (question, answer, model, tokens, cost, latency), or its apology, to the
 * conversation log: what the console's conversations view and the ratings read. Each of the
 * message and the answer is kept to its first LOG_TEXT_MAX_CHARS characters (log-text.ts).
 */
import type { Logger } from 'pino';
import type { ConversationLog } from './conversation-log.js';
import type { Exchange } from './handler.js';
import { logText } from './log-text.js';
import type { InboundMessage } from './message.js';
import type { Metrics } from './observe/index.js';

/** Where a write that failed is counted (parley_conversation_log_failed_total); the log line is written either way. */
export type LogFailures = Pick<Metrics, 'conversationLogFailed'>;

/** How far back a resumed job looks for its own exchange: the queue answers a conversation in order, so it is the newest. */
const RECENT_ENTRIES = 5;

/**
 * One exchange into the conversation log, with who, when and how long; a failure is only logged.
 * `resumed`: an earlier run of the job posted its reply and may have logged it already.
 * `outcome` 'withheld': the adapter held the answer back, nothing was posted.
 */
export async function recordExchange(log: ConversationLog | undefined, message: InboundMessage, exchange: Exchange, logger: Logger, jobId: string, resumed = false, outcome?: 'withheld', metrics?: LogFailures, requestId?: string): Promise<void> {
  if (!log) return;
  const usage = exchange.result?.usage;
  const now = new Date();
  try {
    if (resumed && (await log.list(message.conversation.id, RECENT_ENTRIES)).some((entry) => entry.id === jobId)) return;
    await log.record({
      // the exchange's id: its replies' keys start with it, so a rating can find it
      id: jobId,
      conversationId: message.conversation.id,
      timestamp: now.toISOString(),
      platform: message.platform,
      user: message.user.id,
      ...(message.tenant ? { tenant: message.tenant } : {}),
      ...(requestId ? { requestId } : {}),
      input: logText(exchange.input),
      output: logText(exchange.output),
      ...(outcome ? { outcome } : {}),
      model: exchange.result?.model ?? 'none',
      inputTokens: usage?.inputTokens ?? 0,
      outputTokens: usage?.outputTokens ?? 0,
      costUsd: usage?.costUsd ?? 0,
      latencyMs: Math.max(0, now.getTime() - Date.parse(message.receivedAt)),
    });
  } catch (error) {
    notWritten(logger, metrics, message.platform, error);
  }
}

/**
 * A message given up into the conversation log: the person got the apology (`posted`) or
 * nothing, no answer, after waiting from its arrival until now. No model, tokens or cost; no id,
 * so nothing rates it. Written once per job (the apology's marker decides); a failure is only logged.
 */
export async function recordApology(log: ConversationLog | undefined, message: InboundMessage, apology: string | undefined, logger: Logger, metrics?: LogFailures, requestId?: string): Promise<void> {
  if (!log) return;
  const now = new Date();
  try {
    await log.record({
      conversationId: message.conversation.id,
      timestamp: now.toISOString(),
      platform: message.platform,
      user: message.user.id,
      ...(message.tenant ? { tenant: message.tenant } : {}),
      ...(requestId ? { requestId } : {}),
      input: logText(message.text),
      output: logText(apology ?? ''),
      outcome: 'apologised',
      model: 'none',
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      latencyMs: Math.max(0, now.getTime() - Date.parse(message.receivedAt)),
    });
  } catch (error) {
    notWritten(logger, metrics, message.platform, error);
  }
}

/** A write the log's store refused even after its own retries (a throttled DynamoDB table): the reply stands, the row is lost. */
export function notWritten(logger: Logger, metrics: LogFailures | undefined, platform: string, error: unknown): void {
  metrics?.conversationLogFailed.inc({ platform });
  logger.warn({ err: error, platform }, 'could not write the conversation log; the reply stands, this exchange is not in the log');
}

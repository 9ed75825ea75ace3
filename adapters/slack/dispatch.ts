/**
 * Feeding one Slack payload through a Bolt App: Bolt's middleware and the developer's listeners
 * run, and the request is answered when Bolt acknowledges it, as Bolt's own receivers answer.
 */
import type { App, ReceiverEvent } from '@slack/bolt';
import type { Logger } from 'pino';
import { json, type HttpResponse } from 'parley/adapter-kit';

export type Dispatched =
  | { kind: 'event' }
  | { kind: 'acked'; response: unknown }
  | { kind: 'unacknowledged' }
  | { kind: 'failed'; error: unknown };

/** Bolt answers an unacknowledged interaction after this long; so do we. */
const ACK_TIMEOUT_MS = 3001;

export async function dispatchToBolt(
  app: App,
  body: Record<string, unknown>,
  meta: { retryNum?: number; retryReason?: string },
  logger: Logger,
  /** Answer only once the listeners have finished (a serverless function is frozen after its answer). */
  processBeforeResponse = false,
): Promise<Dispatched> {
  let acked!: (response: unknown) => void;
  const ack = new Promise<unknown>((resolve) => (acked = resolve));
  const event: ReceiverEvent = {
    body,
    retryNum: meta.retryNum,
    retryReason: meta.retryReason,
    ack: async (response?: unknown) => acked(response),
  };
  const processing = app.processEvent(event).then(
    () => undefined,
    (error: unknown) => {
      logger.error({ err: error }, 'a Bolt listener failed');
      return error ?? new Error('a Bolt listener failed');
    },
  );
  if (body.type === 'event_callback') {
    // Bolt acknowledges an Events API request before any middleware runs (function_executed: its
    // listener does), so a developer's slow app.use() never holds Slack's answer. The events parley
    // answers never come here (fast-path.ts): there is no message to wait for.
    await Promise.race([ack, processing, delay(ACK_TIMEOUT_MS)]);
    if (processBeforeResponse) await processing;
    return { kind: 'event' };
  }
  // Commands, shortcuts, actions: the developer's listener acknowledges, as in Bolt — also after
  // it has returned (an ack() in a callback it did not await), so only a failure or the deadline
  // ends the wait without one (Bolt's HTTPReceiver waits the same 3 s).
  const result = await Promise.race([
    ack.then((response) => ({ kind: 'acked' as const, response })),
    processing.then((error) => (error ? { kind: 'failed' as const, error } : never<Dispatched>())),
    delay(ACK_TIMEOUT_MS).then(() => ({ kind: 'unacknowledged' as const })),
  ]);
  // Still answered with the ack's body, once what the listener does after its ack() has run.
  if (processBeforeResponse && result.kind === 'acked') await processing;
  return result;
}

/**
 * What Slack gets for an ack's body, as Bolt's receivers write it: an empty 200 for none or any
 * falsy value (a JavaScript listener's `ack(null)`: JSON `null` is no answer Slack reads), text as
 * it is (a slash command shows it to its sender), anything else as JSON (`response_action`, `options`…).
 */
export function ackResponse(response: unknown): HttpResponse {
  if (!response) return { status: 200 };
  if (typeof response === 'string') return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: response };
  return json(200, response);
}

/** A promise that never settles: a race without this runner. */
function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

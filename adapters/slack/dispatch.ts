/**
 * Feeding one Slack payload through a Bolt App: Bolt's middleware and the developer's listeners
 * run; parley's collecting middleware reports the message it found, if any.
 */
import type { App, ReceiverEvent } from '@slack/bolt';
import type { Logger } from 'pino';
import type { InboundMessage } from 'parley/adapter-kit';

/** Handed to the collecting middleware through Bolt's customProperties. */
export interface Collector {
  found(message: InboundMessage | undefined): void;
}

export type Dispatched =
  | { kind: 'event'; message?: InboundMessage }
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
): Promise<Dispatched> {
  let found!: (message: InboundMessage | undefined) => void;
  const collected = new Promise<InboundMessage | undefined>((resolve) => (found = resolve));
  let acked!: (response: unknown) => void;
  const ack = new Promise<unknown>((resolve) => (acked = resolve));
  const event: ReceiverEvent = {
    body,
    retryNum: meta.retryNum,
    retryReason: meta.retryReason,
    customProperties: { parleyCollector: { found } satisfies Collector },
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
    // Bolt acknowledges events itself; we are done once our middleware has looked (or Bolt dropped it).
    const message = await Promise.race([collected, processing.then(() => undefined)]);
    return { kind: 'event', message };
  }
  // Commands, shortcuts, actions: the developer's listener acknowledges, as in Bolt.
  return Promise.race([
    ack.then((response) => ({ kind: 'acked' as const, response })),
    processing.then((error) => (error ? { kind: 'failed' as const, error } : { kind: 'unacknowledged' as const })),
    delay(ACK_TIMEOUT_MS).then(() => ({ kind: 'unacknowledged' as const })),
  ]);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

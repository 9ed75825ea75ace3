/**
 * Socket Mode: Slack delivers over a WebSocket we open, so no public URL is needed. We own the
 * SocketModeClient (rather than Bolt's receiver) to acknowledge an event only after parley has
 * queued its message: an event we could not take is left unacknowledged and Slack redelivers it.
 * An envelope that can never be taken (its payload does not fit, as over HTTP) is acknowledged and dropped.
 */
import type { App } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import type { Logger } from 'pino';
import { errorText, leftOutFields, logSummaryOf, type InboundMessage, type InvalidPayloadError, type Received } from 'parley/adapter-kit';
import { dispatchToBolt } from './dispatch.js';
import { lastDeliveryOf, SLACK_LAST_RETRY } from './last-delivery.js';
import type { FastPath } from './fast-path.js';
import { slackSdkLogger } from './sdk-logger.js';
import { checkedSocketModeClient } from './socket-client.js';

interface SocketEvent {
  ack(response?: unknown): Promise<void>;
  type: string;
  body: Record<string, unknown>;
  retry_num?: number;
  retry_reason?: string;
}

export interface SocketModeOptions {
  appToken: string;
  clientOptions: WebClientOptions;
  app: App;
  /** The events parley answers: classified without Bolt, handed to it after the ack when wanted. */
  fastPath: FastPath;
  logger(): Logger;
  /** `lastDelivery` on Slack's last retry: taken even once the drain has begun (a refusal would lose it). */
  deliver(messages: InboundMessage[], options?: { lastDelivery?: Received['lastDelivery'] }): Promise<void>;
  /** An envelope whose payload does not fit (parse.ts), acknowledged and dropped: logged and counted as over HTTP. */
  refused(error: InvalidPayloadError): void;
  /** Many workspaces: false for an event from a workspace without an installation (acknowledged, not answered). */
  admit?(body: Record<string, unknown>): Promise<boolean>;
}

export function createSocketMode(options: SocketModeOptions): { start(): Promise<void>; stop(): Promise<void>; lost(): `failed: ${string}` | undefined } {
  let lost: string | undefined; // why the connection is down since it was up, for /readyz
  // Its WebClient would otherwise retry apps.connections.open 100 times; the bot retries start() itself.
  // An envelope that does not fit is acknowledged and dropped before the SDK reads it (socket-client.ts).
  const client = checkedSocketModeClient(
    { appToken: options.appToken, logger: slackSdkLogger(options.logger), clientOptions: options.clientOptions },
    {
      refused: options.refused,
      failed: (error) => options.logger().error({ err: error }, 'a Socket Mode message could not be handled; it is dropped'),
      manyWorkspaces: options.admit !== undefined, // `admit` is given with many workspaces only
      reconnectFailed: (error) => {
        lost = `Socket Mode reconnecting: ${error instanceof Error ? error.message : String(error)}`;
        options.logger().warn({ err: error }, 'Socket Mode could not reconnect to Slack; trying again');
      },
    },
  );
  client.on('connected', () => (lost = undefined));
  client.on('close', () => (lost ??= 'Socket Mode connection lost; reconnecting'));
  client.on('slack_event', (event: SocketEvent) => {
    void handle(event).catch((error: unknown) => notTaken(options.logger(), event, error));
  });

  async function handle(event: SocketEvent): Promise<void> {
    if (options.admit && !(await options.admit(event.body))) return event.ack();
    const meta = { retryNum: event.retry_num, retryReason: event.retry_reason };
    const fast = await options.fastPath.take(event.body, meta);
    if (fast) {
      if (fast.message) await options.deliver([fast.message], { lastDelivery: lastDeliveryOf(event.retry_num, event.body) });
      await event.ack();
      void fast.afterAck?.();
      return;
    }
    const result = await dispatchToBolt(options.app, event.body, meta, options.logger());
    if (result.kind === 'event') {
      await event.ack();
    } else if (result.kind === 'acked') {
      await event.ack(result.response === undefined || result.response === '' ? undefined : result.response);
    } else {
      options.logger().warn({ type: event.type }, 'no Bolt listener acknowledged this Socket Mode request');
    }
  }

  return {
    start: async () => void (await client.start()),
    stop: () => client.disconnect(),
    lost: () => (lost === undefined ? undefined : `failed: ${lost}`),
  };
}

/**
 * An event not taken (Redis down, the queue full) is left unacknowledged for Slack to redeliver. A
 * burst of them is one error line a minute per kind (the event's type, the error's text; a few
 * texts a minute, the others one kind), the next one saying how many were left out, as the HTTP
 * layer's refusals are. On Slack's last retry it is lost: each is named, never summarised.
 */
function notTaken(logger: Logger, { type, body, retry_num: retryNum }: SocketEvent, error: unknown): void {
  if ((retryNum ?? 0) >= SLACK_LAST_RETRY) {
    logger.error({ err: error, type, event: body.event_id, retryNum }, "Socket Mode event not taken on Slack's last retry; it is lost (Slack will not send it again)");
    return;
  }
  const leftOut = logSummaryOf(logger).takeOf(`socket mode not taken ${type}`, errorText(error));
  if (leftOut !== undefined) logger.error({ err: error, type, ...leftOutFields(leftOut) }, 'Socket Mode event not taken; Slack will redeliver it');
}

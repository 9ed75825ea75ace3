/**
 * The Socket Mode SDK's client, with each envelope checked before the SDK reads it. The SDK reads
 * `payload.event.type` of an events_api envelope unchecked: an envelope without `event` made its
 * message handler reject, and the unhandled rejection ended the process. Here an envelope's payload
 * gets the checks the same payload gets over HTTP (parse.ts); one that does not fit is acknowledged
 * (Slack would redeliver it for hours otherwise) and dropped, and reported through `refused`.
 *
 * The hook is the client's `onWebSocketMessage`, protected in the SDK's types for this purpose
 * (every frame passes through it). The acknowledgement is the one the SDK's own `ack()` sends.
 *
 * Its reconnection is made to keep trying (keepReconnecting): the SDK's own let a failed reconnect's
 * rejection go unhandled, which ended the process.
 */
import type { SocketModeClient, SocketModeOptions } from '@slack/socket-mode';
import { InvalidPayloadError } from 'parley/adapter-kit';
import { checkEnvelopePayload } from './parse.js';
import { slackSocketMode } from './sdk.js';

export interface EnvelopeChecks {
  /** An envelope dropped (acknowledged first when it has an id): log and count it as a refused webhook. */
  refused(error: InvalidPayloadError): void;
  /** Anything else the SDK's message handler threw: logged, so the process stays up. */
  failed(error: unknown): void;
  /** Many workspaces (OAuth): a command or an interaction must name its installation, as over HTTP. */
  manyWorkspaces?: boolean;
  /** A reconnection that failed (apps.connections.open refused or unreachable): another is tried later. */
  reconnectFailed?(error: unknown): void;
}

/** What the SDK's `ack()` calls: `send(envelope_id, body)`. Private in its types, public in its JavaScript. */
interface Sender {
  send(envelopeId: string, body?: unknown): Promise<void>;
}

export function checkedSocketModeClient(options: SocketModeOptions, checks: EnvelopeChecks): SocketModeClient {
  const Base = slackSocketMode().SocketModeClient;
  class CheckedSocketModeClient extends Base {
    protected override async onWebSocketMessage(data: string | ArrayBuffer, isBinary: boolean): Promise<void> {
      try {
        const misfit = isBinary ? undefined : misfitOf(data, checks.manyWorkspaces === true);
        if (!misfit) return await super.onWebSocketMessage(data, isBinary);
        checks.refused(misfit.error);
        if (typeof misfit.envelopeId === 'string') await (this as unknown as Sender).send(misfit.envelopeId);
      } catch (error) {
        checks.failed(error);
      }
    }
  }
  const client = new CheckedSocketModeClient(options);
  keepReconnecting(client, checks.reconnectFailed ?? checks.failed);
  return client;
}

/** The SDK's reconnection, private in its types: `delayReconnectAttempt(cb)` waits, then resolves with what `cb` resolves with. */
interface Reconnection {
  start(): Promise<unknown>;
  shuttingDown: boolean;
  numOfConsecutiveReconnectionFailures: number;
  delayReconnectAttempt(attempt: () => Promise<unknown>): Promise<unknown>;
  retrieveWSSURL(): Promise<string>;
}

/** The SDK waits 5 s times the failures so far before each try: never more than a minute here. */
const MAX_FAILURES_COUNTED = 12;

/**
 * After a lost connection the SDK reconnects with `delayReconnectAttempt(start)`. When that start
 * failed — apps.connections.open answered a 5xx or could not be reached, errors the SDK counts
 * unrecoverable — its rejection went unhandled and ended the process (every platform with it), and
 * a failure inside the SDK's own retry of apps.connections.open did the same and left its caller
 * waiting forever. Here a failed attempt rejects to whoever waits for it, and a failed reconnection
 * is reported and tried again, until `disconnect()`. The first start is the bot's, which retries it.
 */
function keepReconnecting(client: SocketModeClient, failed: (error: unknown) => void): void {
  const sdk = client as unknown as Reconnection;
  // An SDK version that reconnects some other way: left to its own.
  if (typeof sdk.delayReconnectAttempt !== 'function') return;
  const sdkDelay = sdk.delayReconnectAttempt.bind(sdk);
  // A disconnect() while apps.connections.open was on its way (a reconnection's, or the first start's):
  // the SDK opened the connection all the same, after the bot had closed (events taken by a closing
  // process, and a socket that kept it alive). Here that start fails instead; start() resets the flag.
  const sdkUrl = sdk.retrieveWSSURL.bind(sdk);
  sdk.retrieveWSSURL = async () => {
    const url = await sdkUrl();
    if (sdk.shuttingDown) throw new Error('Socket Mode was disconnected while it connected');
    return url;
  };
  sdk.delayReconnectAttempt = (attempt) => {
    const reconnecting = attempt === sdk.start;
    sdk.numOfConsecutiveReconnectionFailures = Math.min(sdk.numOfConsecutiveReconnectionFailures, MAX_FAILURES_COUNTED - 1);
    const settled = sdkDelay(function (this: unknown) {
      return attempt.apply(this).then((value) => ({ value }), (error: unknown) => ({ error }));
    }) as Promise<{ value: unknown } | { error: unknown }>;
    return settled.then((outcome) => {
      if (!('error' in outcome)) return outcome.value;
      if (!reconnecting) throw outcome.error;
      if (sdk.shuttingDown) return undefined;
      failed(outcome.error);
      return sdk.delayReconnectAttempt(sdk.start);
    });
  };
}

/** Why a frame cannot be handed to the SDK, or undefined when it can (text that is no JSON: the SDK ignores it). */
function misfitOf(data: string | ArrayBuffer, manyWorkspaces: boolean): { envelopeId: unknown; error: InvalidPayloadError } | undefined {
  let frame: unknown;
  try {
    frame = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
  // `null` would throw in the SDK, which reads `frame.type`.
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
    return { envelopeId: undefined, error: new InvalidPayloadError('A Slack Socket Mode message is not a JSON object.', frame, 200, 'malformed_body') };
  }
  const envelope = frame as { type?: unknown; envelope_id?: unknown; payload?: unknown };
  if (typeof envelope.type !== 'string') return undefined;
  try {
    checkEnvelopePayload(envelope.type, envelope.payload, manyWorkspaces);
    return undefined;
  } catch (error) {
    if (error instanceof InvalidPayloadError) return { envelopeId: envelope.envelope_id, error };
    throw error;
  }
}

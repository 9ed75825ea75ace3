/**
 * The Socket Mode SDK's client, with each envelope checked before the SDK reads it. The SDK reads
 * `payload.event.type` of an events_api envelope unchecked: an envelope without `event` made its
 * message handler reject, and the unhandled rejection ended the process. Here an envelope's payload
 * gets the checks the same payload gets over HTTP (parse.ts); one that does not fit is acknowledged
 * (Slack would redeliver it for hours otherwise) and dropped, and reported through `refused`.
 *
 * The hook is the client's `onWebSocketMessage`, protected in the SDK's types for this purpose
 * (every frame passes through it). The acknowledgement is the one the SDK's own `ack()` sends.
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
  return new CheckedSocketModeClient(options);
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

/**
 * What a Twilio messaging webhook means: a person's WhatsApp message (→ InboundMessage) or a
 * status callback about one of ours (answered, not handled).
 */
import { checkPayload, type Attachment, type InboundMessage } from 'parley/adapter-kit';
import { param, type TwilioParams } from './parse.js';
import { MAX_MEDIA, twilioMessage, twilioStatusCallback } from './schema.js';

/** What the adapter needs to answer later; plain data, it crosses the queue. */
export interface WhatsAppDetails {
  /** The person, e.g. `whatsapp:+15551234567`: where replies go. */
  from: string;
  /**
   * Our number they wrote to: replies go from it (send.ts's replySender), and it is part of the
   * conversation's id, so each of the account's numbers has its own conversation with a person.
   */
  to: string;
  [key: string]: unknown;
}

export type TwilioWebhook =
  | { kind: 'message'; message: InboundMessage }
  | { kind: 'status'; sid?: string; status: string; errorCode?: string }
  /** A message with nothing to answer: no text, no media, no location (a reaction, an empty text). */
  | { kind: 'empty'; sid: string; type?: string };

/** A message of this type with no text, media or location leaves nothing to answer (an empty text). */
const NOTHING_TO_READ = new Set(['text']);

/**
 * Classify and parse a verified webhook. A message that does not fit schema.ts is a 400
 * (invalid_payload): Twilio does not redeliver, so the answer only tells whoever sent it.
 */
export function parseTwilioWebhook(params: TwilioParams, receivedAt = new Date()): TwilioWebhook {
  const status = param(params, 'MessageStatus');
  // An inbound message may carry a "received" status; anything else reports on a message we sent.
  if (status && status !== 'received') {
    const callback = checkPayload(twilioStatusCallback, params, 'The Twilio status callback');
    // Twilio reports a reply it could not deliver here (63016: outside the 24-hour window), after its API said 201.
    const errorCode = param(params, 'ErrorCode');
    return { kind: 'status', sid: callback.MessageSid, status, ...(errorCode ? { errorCode } : {}) };
  }
  const { MessageSid: sid, From: from, To: to } = checkPayload(twilioMessage, params, 'The Twilio message webhook');
  const attachments = mediaOf(params);
  // A tapped button's text, should its Body be empty.
  const text = [(param(params, 'Body') || param(params, 'ButtonText') || '').trim(), locationOf(params)].filter(Boolean).join('\n');
  const type = param(params, 'MessageType');
  // Not queued: it would spend the person's rate limit (and a job) on a message that gets no answer.
  // A reaction is never answered, whether or not its emoji comes as the Body.
  if (type === 'reaction') return { kind: 'empty', sid, type };
  if (!text && attachments.length === 0) {
    if (!type || NOTHING_TO_READ.has(type)) return { kind: 'empty', sid, ...(type ? { type } : {}) };
    // Something the person sent that Twilio did not carry (`unsupported`: a poll, a view-once photo…):
    // as a file the model cannot read, so they are told once (MEDIA_NOTICE) rather than left unanswered.
    attachments.push({ name: `WhatsApp ${type.slice(0, 64)} message` });
  }
  const details: WhatsAppDetails = { from, to };
  const name = param(params, 'ProfileName');
  const waId = param(params, 'WaId');
  return {
    kind: 'message',
    message: {
      id: sid,
      platform: 'whatsapp',
      conversation: { platform: 'whatsapp', id: `${to}:${from}`, details },
      user: { id: waId ?? from, ...(name ? { name } : {}) },
      text,
      ...(attachments.length > 0 ? { attachments } : {}),
      receivedAt: receivedAt.toISOString(),
      tenant: param(params, 'AccountSid'),
      raw: params,
    },
  };
}

/**
 * A shared location (Twilio's Latitude, Longitude and, for a named place, Address and Label) as a
 * line the model can read: without it a pin has no text and no media, and would get no answer.
 */
function locationOf(params: TwilioParams): string | undefined {
  const latitude = param(params, 'Latitude');
  const longitude = param(params, 'Longitude');
  if (!latitude || !longitude) return undefined;
  const place = [param(params, 'Label'), param(params, 'Address')].filter(Boolean).join(', ');
  return `[location: ${place ? `${place} ` : ''}(${latitude}, ${longitude})]`;
}

function mediaOf(params: TwilioParams): Attachment[] {
  const count = Math.min(Number(param(params, 'NumMedia') ?? '0'), MAX_MEDIA); // checked by the schema
  const attachments: Attachment[] = [];
  for (let i = 0; i < count; i++) {
    const url = param(params, `MediaUrl${i}`);
    if (!url) continue;
    const contentType = param(params, `MediaContentType${i}`);
    attachments.push({ url, ...(contentType ? { contentType } : {}) });
  }
  return attachments;
}

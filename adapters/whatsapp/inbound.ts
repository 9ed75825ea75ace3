/**
 * What a Twilio messaging webhook means: a person's WhatsApp message (→ InboundMessage) or a
 * status callback about one of ours (answered, not handled).
 */
import { HttpError, type Attachment, type InboundMessage } from '../../src/index.js';
import { param, type TwilioParams } from './parse.js';

/** What the adapter needs to answer later; plain data, it crosses the queue. */
export interface WhatsAppDetails {
  /** The person, e.g. `whatsapp:+15551234567`: where replies go. */
  from: string;
  /** Our number they wrote to. */
  to: string;
  [key: string]: unknown;
}

export type TwilioWebhook = { kind: 'message'; message: InboundMessage } | { kind: 'status'; sid?: string; status: string };

/** Most media a WhatsApp message can carry; a larger NumMedia is not Twilio's. */
const MAX_MEDIA = 20;

/** Classify and parse a verified webhook. Throws HttpError 400 when a message lacks what every message has. */
export function parseTwilioWebhook(params: TwilioParams, receivedAt = new Date()): TwilioWebhook {
  const status = param(params, 'MessageStatus');
  // An inbound message may carry a "received" status; anything else reports on a message we sent.
  if (status && status !== 'received') return { kind: 'status', sid: param(params, 'MessageSid'), status };

  const sid = param(params, 'MessageSid');
  const from = param(params, 'From');
  const to = param(params, 'To');
  if (!sid || !from || !to) {
    const missing = [!sid && 'MessageSid', !from && 'From', !to && 'To'].filter(Boolean).join(', ');
    throw new HttpError(400, 'malformed_body', `The Twilio webhook lacks ${missing}.`);
  }
  const attachments = mediaOf(params);
  const text = (param(params, 'Body') ?? param(params, 'ButtonText') ?? '').trim();
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

function mediaOf(params: TwilioParams): Attachment[] {
  const count = Number(param(params, 'NumMedia') ?? '0');
  if (!Number.isInteger(count) || count < 0 || count > MAX_MEDIA) throw new HttpError(400, 'malformed_body', 'NumMedia is not a small whole number.');
  const attachments: Attachment[] = [];
  for (let i = 0; i < count; i++) {
    const url = param(params, `MediaUrl${i}`);
    if (!url) continue;
    const contentType = param(params, `MediaContentType${i}`);
    attachments.push({ url, ...(contentType ? { contentType } : {}) });
  }
  return attachments;
}

/**
 * Inbound Twilio webhooks for tests: the form fields Twilio posts for a WhatsApp message or a
 * status callback, signed with the twilio SDK's own getExpectedTwilioSignature — never with the
 * parley code under test.
 */
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import type { FetchLike } from './in-process.js';

export const ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
export const AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
export const OLD_AUTH_TOKEN = 'old-auth-token-0123456789abcdef';
/** The Twilio WhatsApp sandbox number. */
export const BOT_NUMBER = 'whatsapp:+14155238886';
export const USER_NUMBER = 'whatsapp:+15551234567';
/** Another WhatsApp sender of the same account (one number per country or brand), pointing at the same webhook. */
export const SECOND_BOT_NUMBER = 'whatsapp:+447700900123';

export type Form = Record<string, string>;

/** A new Twilio message SID. */
export const messageSid = () => `SM${randomBytes(16).toString('hex')}`;

/** The fields of an inbound WhatsApp text message, as Twilio posts them. */
export function whatsappMessage(overrides: Form = {}): Form {
  const sid = overrides.MessageSid ?? messageSid();
  const from = overrides.From ?? USER_NUMBER;
  return {
    SmsMessageSid: sid,
    NumMedia: '0',
    ProfileName: 'Alice',
    MessageType: 'text',
    SmsSid: sid,
    WaId: from.replace(/^whatsapp:\+/, ''),
    SmsStatus: 'received',
    Body: 'hello',
    To: BOT_NUMBER,
    NumSegments: '1',
    ReferralNumMedia: '0',
    MessageSid: sid,
    AccountSid: ACCOUNT_SID,
    From: from,
    ApiVersion: '2010-04-01',
    ...overrides,
  };
}

/** A media-only message (an image, no text). */
export function whatsappImage(overrides: Form = {}): Form {
  const sid = overrides.MessageSid ?? messageSid();
  return whatsappMessage({
    MessageSid: sid,
    Body: '',
    NumMedia: '1',
    MessageType: 'image',
    MediaContentType0: 'image/jpeg',
    MediaUrl0: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${sid}/Media/ME${randomBytes(16).toString('hex')}`,
    ...overrides,
  });
}

/** A status callback about a message we sent. */
export function statusCallback(status = 'delivered'): Form {
  const sid = messageSid();
  return { SmsSid: sid, SmsStatus: status, MessageStatus: status, ChannelToAddress: '+15551234567', To: USER_NUMBER, ChannelPrefix: 'whatsapp', MessageSid: sid, AccountSid: ACCOUNT_SID, From: BOT_NUMBER, ApiVersion: '2010-04-01', ChannelInstallSid: `XE${'0'.repeat(32)}` };
}

export interface PostOptions {
  /** The URL Twilio signed (default: the URL posted to). */
  signedUrl?: string;
  token?: string;
  /** Sign with this algorithm (the SDK's HMAC_SHA1 by default; HMAC_SHA256 comes with a settings header). */
  algorithm?: string;
  headers?: Record<string, string>;
  /** Send this raw body instead of the encoded form (still signed over `form`). */
  rawBody?: string;
  /** Send with this instead of the global fetch (e.g. a bot's handler in this process). */
  fetch?: FetchLike;
}

/**
 * Post a form webhook as Twilio does: X-Twilio-Signature over the signed URL and the sorted fields.
 * A field given as a list is sent once per value (the SDK signs every value).
 */
export async function postTwilio(url: string, form: Form | Record<string, string | string[]>, options: PostOptions = {}): Promise<Response> {
  const signature = twilio.getExpectedTwilioSignature(options.token ?? AUTH_TOKEN, options.signedUrl ?? url, form, options.algorithm);
  const encoded = new URLSearchParams(Object.entries(form).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v): [string, string] => [name, v])));
  return (options.fetch ?? fetch)(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature, 'i-twilio-idempotency-token': randomBytes(8).toString('hex'), ...options.headers },
    body: options.rawBody ?? encoded.toString(),
  });
}

/**
 * Post the JSON variant: the body's SHA-256 goes in the URL's bodySHA256 parameter, and the URL is
 * signed. `sent` replaces the body actually posted (a body changed in transit).
 */
export async function postTwilioJson(url: string, payload: unknown, token = AUTH_TOKEN, sent?: unknown, send: FetchLike = fetch): Promise<Response> {
  const body = JSON.stringify(payload);
  const signedUrl = `${url}?bodySHA256=${twilio.getExpectedBodyHash(body)}`;
  const signature = twilio.getExpectedTwilioSignature(token, signedUrl, {});
  return send(signedUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-twilio-signature': signature }, body: sent === undefined ? body : JSON.stringify(sent) });
}

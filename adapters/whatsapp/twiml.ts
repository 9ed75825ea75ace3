import type { HttpResponse } from 'parley/adapter-kit';
import { twilioSdk } from './sdk.js';

const headers = { 'content-type': 'text/xml; charset=utf-8' };
/** Characters XML 1.0 cannot carry (control characters, lone surrogates): the TwiML builder throws on them. */
const notXml = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** TwiML that answers a webhook without replying: the reply, if any, goes through the REST API. */
export function emptyTwiml(): HttpResponse {
  return { status: 200, headers: { ...headers }, body: new (twilioSdk().twiml.MessagingResponse)().toString() };
}

/** TwiML that replies with one <Message> per part, in order (direct mode). */
export function messagesTwiml(parts: readonly string[]): HttpResponse {
  const response = new (twilioSdk().twiml.MessagingResponse)();
  for (const part of parts) response.message(part.replace(notXml, ''));
  return { status: 200, headers: { ...headers }, body: response.toString() };
}

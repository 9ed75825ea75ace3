/**
 * `parley simulate whatsapp "text"`: send a WhatsApp message webhook, signed the way Twilio signs
 * it (with the twilio SDK), to a running server — no phone, no tunnel.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../src/index.js';
import { splitCredentials } from '../src/http/credentials.js';
import { requestUrl } from '../src/http/url.js';
import { whatsappConfigFromEnv } from '../adapters/whatsapp/index.js';
import { twilioSdk } from '../adapters/whatsapp/sdk.js';
import { post, shownUrl } from './simulate-post.js';

export interface SimulateWhatsAppOptions {
  text: string;
  /** The sender, e.g. whatsapp:+15551234567. */
  from?: string;
  /** The bot's number written to (the reply goes from it); default TWILIO_WHATSAPP_FROM, else the sandbox number. */
  to?: string;
  /** Where to post; default: this configuration's server and TWILIO_WHATSAPP_PATH. */
  url?: string;
}

/** Send one simulated WhatsApp message; prints what was sent and the answer. Returns an exit code. */
export async function simulateWhatsApp(config: Config, options: SimulateWhatsAppOptions): Promise<number> {
  let whatsapp;
  try {
    whatsapp = whatsappConfigFromEnv(config.env);
  } catch (error) {
    console.error(`parley simulate whatsapp: ${(error as Error).message}`);
    return 2;
  }
  const token = whatsapp?.authTokens[0];
  if (!whatsapp || !token) {
    console.error('parley simulate whatsapp: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (the same ones the server uses) so the webhook can be signed.');
    return 2;
  }
  const url = options.url ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}${whatsapp.path}`;
  // The server checks the signature against the URL it rebuilds: PUBLIC_URL + path when set.
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    console.error(`parley simulate whatsapp: --url ${JSON.stringify(shownUrl(url))} is not a URL; e.g. --url http://127.0.0.1:3000${whatsapp.path}`);
    return 2;
  }
  // As the server rebuilds it (PUBLIC_URL's path once, whether the proxy kept it or not), never
  // with --url's user and password: they go in the Authorization header, not the URL the server sees.
  const posted = splitCredentials(url).url;
  const signedUrl = config.publicUrl ? requestUrl(`${target.pathname}${target.search}`, {}, false, { publicUrl: config.publicUrl, trustProxy: false }).href : posted;
  const from = normalise(options.from ?? 'whatsapp:+15550000001');
  const to = normalise(options.to ?? whatsapp.from ?? 'whatsapp:+14155238886');
  const sid = `SM${randomBytes(16).toString('hex')}`;
  const form: Record<string, string> = {
    SmsMessageSid: sid,
    NumMedia: '0',
    ProfileName: 'parley simulate',
    MessageType: 'text',
    SmsSid: sid,
    WaId: from.replace(/^whatsapp:\+/, ''),
    SmsStatus: 'received',
    Body: options.text,
    To: to,
    NumSegments: '1',
    MessageSid: sid,
    AccountSid: whatsapp.accountSid,
    From: from,
    ApiVersion: '2010-04-01',
  };
  const signature = twilioSdk('parley simulate whatsapp').getExpectedTwilioSignature(token, signedUrl, form);
  const res = await post(url, { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body: new URLSearchParams(form).toString() });
  if ('problem' in res) {
    console.error(res.problem);
    return 1;
  }
  console.log(`sent WhatsApp message ${sid} from ${from} to ${shownUrl(url)}: ${res.status} ${res.text}`);
  if (signedUrl !== posted) console.log(`(signed for ${shownUrl(signedUrl)}, as PUBLIC_URL says)`);
  return res.ok ? 0 : 1;
}

/** As Twilio writes a WhatsApp number: `whatsapp:+<digits>` (a number given without its `+`, or without `whatsapp:`, gets it). */
function normalise(number: string): string {
  const bare = number.replace(/^whatsapp:/, '');
  return `whatsapp:${/^\d/.test(bare) ? `+${bare}` : bare}`;
}

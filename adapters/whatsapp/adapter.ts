/**
 * WhatsApp through Twilio, on the twilio SDK: webhooks verified with `validateRequest`, answered
 * with TwiML, replies posted with `messages.create` (or, in direct mode, as TwiML <Message>s),
 * from the number the person wrote to.
 */
import type { Twilio } from 'twilio';
import type { Adapter, AdapterContext, HttpRequest, Received } from 'parley/adapter-kit';
import { rememberBasicCredentials, rememberSecrets } from 'parley/adapter-kit';
import { whatsappConfigFromOptions, type WhatsAppOptions } from './config.js';
import { createTwilioHttpClient } from './http-client.js';
import { parseTwilioWebhook, type WhatsAppDetails } from './inbound.js';
import { OwnNumbers } from './own-numbers.js';
import { parseTwilioBody } from './parse.js';
import { twilioSdk } from './sdk.js';
import { WhatsAppSender, twimlParts, whatsappParts } from './send.js';
import { noteStatus } from './status.js';
import { emptyTwiml, messagesTwiml } from './twiml.js';
import { verifyTwilioSignature } from './verify.js';

/** Twilio drops a webhook request it has no answer to after 15 s. */
const TWILIO_WEBHOOK_TIMEOUT_MS = 15_000;

/** accountSid, authTokens and from (or messagingServiceSid) are needed; apiUrl and path have the TWILIO_ variables' defaults. */
export type WhatsAppAdapterOptions = WhatsAppOptions & {
  /** Your own twilio client; by default one is made from the account SID and the first auth token. */
  client?: Twilio;
};

/** Create the WhatsApp adapter. */
export function whatsappAdapter(input: WhatsAppAdapterOptions): Adapter<WhatsAppDetails> & { client: Twilio } {
  // A missing SDK first: installing it is the first thing to fix.
  const twilio = twilioSdk();
  const options = whatsappConfigFromOptions(input);
  const sendToken = options.authTokens[0] as string;
  // Twilio's errors may quote one back: hidden wherever they are logged or stored.
  rememberSecrets(...options.authTokens);
  const client = options.client ?? twilio(options.accountSid, sendToken, { httpClient: createTwilioHttpClient(options.apiUrl), autoRetry: false });
  // The SDK sends them as `Authorization: Basic base64(SID:token)`, which an error may quote too;
  // a client of your own may use an API key and its secret instead.
  rememberSecrets(client.password);
  rememberBasicCredentials(options.accountSid, ...options.authTokens);
  rememberBasicCredentials(client.username, client.password);
  // The SDK loads its REST modules on first use, a few hundred ms of synchronous work that would
  // stall every request in flight (/healthz included): load them now, before the server listens.
  void client.messages;
  let context: AdapterContext | undefined;
  const sender = new WhatsAppSender(client, {
    ...(options.from ? { from: options.from } : {}),
    ...(options.messagingServiceSid ? { messagingServiceSid: options.messagingServiceSid } : {}),
  });
  const ownNumbers = new OwnNumbers();

  async function receive(request: HttpRequest): Promise<Received> {
    const params = parseTwilioBody(request);
    verifyTwilioSignature(request, options.authTokens, params);
    const webhook = parseTwilioWebhook(params);
    if (webhook.kind === 'status') {
      // A reply Twilio could not deliver: logged and counted (parley_replies_undelivered_total), once per MessageSid.
      await noteStatus(context, webhook);
      return { response: { ...emptyTwiml(), outcome: 'control' }, messages: [] };
    }
    if (webhook.kind === 'empty') {
      context?.logger.debug({ sid: webhook.sid, type: webhook.type }, 'a WhatsApp message with nothing to answer (a reaction, or no text, media or location)');
      return { response: { ...emptyTwiml(), outcome: 'ignored' }, messages: [] };
    }
    const { from, to } = webhook.message.conversation.details as WhatsAppDetails;
    // From one of the bot's own numbers: answering it would be talking to itself (Twilio refuses To = From).
    if (from === to || from === options.from || ownNumbers.has(from)) {
      context?.logger.debug({ sid: webhook.message.id }, "a WhatsApp message from the bot's own number; not answered");
      return { response: { ...emptyTwiml(), outcome: 'ignored' }, messages: [] };
    }
    // Noted only from a message answered: one from our own number may be the echo of a reply, its To a person.
    ownNumbers.note(to);
    context?.logger.debug({ sid: webhook.message.id, text: webhook.message.text, media: webhook.message.attachments?.length ?? 0 }, 'WhatsApp message');
    return { response: emptyTwiml(), messages: [webhook.message] };
  }

  return {
    platform: 'whatsapp',
    path: options.path,
    contentTypes: ['application/x-www-form-urlencoded', 'application/json'],
    // Twilio does not redeliver a webhook it got a 5xx for: a message the queue cannot take is answered in-process.
    redelivers: false,
    client,
    async start(ctx) {
      context = ctx;
      const { mode, directDeadlineMs } = ctx.config;
      if (mode === 'direct' && directDeadlineMs >= TWILIO_WEBHOOK_TIMEOUT_MS) {
        // ctx.logger already names the platform: a second `platform` would repeat the key in the line.
        ctx.logger.warn(
          { directDeadlineMs },
          `DIRECT_DEADLINE_MS is not under Twilio's 15 s webhook timeout: Twilio hangs up first (error 11200), and a reply ready after that is posted through the REST API instead of in the TwiML answer. Set DIRECT_DEADLINE_MS below 15000 (default 10000)`,
        );
      }
    },
    receive,
    ...whatsappParts,
    sendPart: (conversation, text) => sender.sendPart(conversation, text),
    findPart: (conversation, _part, since, text) => sender.findPart(conversation, text, since),
    respondDirect(reply) {
      const parts = twimlParts(reply);
      return parts.length > 0 ? messagesTwiml(parts) : emptyTwiml();
    },
  } satisfies Adapter<WhatsAppDetails> & { client: Twilio };
}

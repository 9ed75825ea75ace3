/**
 * Posting one part of a reply through Twilio's REST API (`messages.create`); the core formats the
 * reply for WhatsApp, splits it at 1,600 characters and skips parts already posted on a retry.
 */
import type { Twilio } from 'twilio';
import { MaybePostedError, replyParts, type ConversationRef, type Reply } from 'parley/adapter-kit';
import { classifyTwilioError } from './errors.js';
import { findSentMessage } from './find-part.js';
import { markdownToWhatsApp } from './format.js';
import type { WhatsAppDetails } from './inbound.js';

/** Twilio refuses a WhatsApp body longer than this. */
export const MAX_MESSAGE_CHARS = 1600;

/** How a reply reads on WhatsApp and how long a part may be: what the adapter declares to the core. */
export const whatsappParts = { maxChars: MAX_MESSAGE_CHARS, format: markdownToWhatsApp } as const;

/** A reply as the parts Twilio will accept, in order (for TwiML, which the core does not post). */
export function twimlParts(reply: Reply): string[] {
  return replyParts(whatsappParts, reply.text);
}

export interface Sender {
  from?: string;
  messagingServiceSid?: string;
}

/** A WhatsApp sender as Twilio writes it in a webhook's `To`. */
const WHATSAPP_ADDRESS = /^whatsapp:\+[1-9]\d{6,14}$/;

/**
 * Who a reply is sent from: the number the person wrote to (the inbound `To`, one of this
 * account's senders: Twilio delivered it, signed), as a TwiML reply goes. A Messaging Service
 * picks its own sender from its pool, as before (a `From` outside the pool would be refused).
 * Details without a WhatsApp `To` (a job made by hand, a conversation an app made up itself) keep
 * the configured sender. The details crossed the queue: checked here.
 */
export function replySender(configured: Sender, details: Partial<WhatsAppDetails> | undefined): Sender {
  if (configured.messagingServiceSid) return configured;
  const to = details?.to;
  return typeof to === 'string' && WHATSAPP_ADDRESS.test(to) ? { ...configured, from: to } : configured;
}

export class WhatsAppSender {
  constructor(
    private readonly client: Twilio,
    private readonly sender: Sender,
  ) {}

  /** Post one part to the person; returns the message SID. */
  async sendPart({ details }: ConversationRef<WhatsAppDetails>, body: string): Promise<string> {
    try {
      const message = await this.client.messages.create({ to: details!.from, body, ...replySender(this.sender, details) });
      // An answer without the message's SID (a proxy's JSON) says nothing of the send: looked for before it is sent again.
      if (typeof message.sid !== 'string' || message.sid === '') throw new MaybePostedError('Twilio answered the send without a message SID; it may have taken it');
      return message.sid;
    } catch (error) {
      throw classifyTwilioError(error);
    }
  }

  /** A part whose send may have been taken (it timed out after going out): its SID if Twilio has it. */
  async findPart({ details }: ConversationRef<WhatsAppDetails>, body: string, since: number): Promise<string | undefined> {
    try {
      // From the sender the part was sent from (replySender), or it is never found and goes out twice.
      const sender = replySender(this.sender, details);
      const found = await findSentMessage(this.client, sender, details!.from, body, since);
      if (found !== undefined || sender.from === this.sender.from) return found;
      // Versions before replySender sent every part from the configured number: in a rolling
      // upgrade, a part one of them sent is retried here. Looked for there too (only then).
      return await findSentMessage(this.client, this.sender, details!.from, body, since);
    } catch (error) {
      throw classifyTwilioError(error, 'the listing of messages', false);
    }
  }
}

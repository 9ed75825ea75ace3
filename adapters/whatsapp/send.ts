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

export class WhatsAppSender {
  constructor(
    private readonly client: Twilio,
    private readonly sender: Sender,
  ) {}

  /** Post one part to the person; returns the message SID. */
  async sendPart({ details }: ConversationRef<WhatsAppDetails>, body: string): Promise<string> {
    try {
      const message = await this.client.messages.create({ to: details!.from, body, ...this.sender });
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
      return await findSentMessage(this.client, this.sender, details!.from, body, since);
    } catch (error) {
      throw classifyTwilioError(error, 'the listing of messages');
    }
  }
}

/**
 * Posting a reply through Twilio's REST API (`messages.create`): WhatsApp formatting, replies
 * over 1,600 characters in ordered parts, and parts already posted skipped on a retry.
 */
import type { Logger } from 'pino';
import type { Twilio } from 'twilio';
import type { ConversationRef, Delivery, Reply, Store } from '../../src/index.js';
import { splitMessage } from '../../src/text/index.js';
import { classifyTwilioError } from './errors.js';
import { markdownToWhatsApp } from './format.js';
import type { WhatsAppDetails } from './inbound.js';

/** Twilio refuses a WhatsApp body longer than this. */
export const MAX_MESSAGE_CHARS = 1600;
const MARKER_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export const whatsappKeys = {
  part: (key: string, index: number) => `parley:whatsapp:part:${key}:${index}`,
};

/** A reply as the parts Twilio will accept, in order. */
export function replyParts(reply: Reply): string[] {
  return splitMessage(markdownToWhatsApp(reply.text), MAX_MESSAGE_CHARS);
}

export interface Sender {
  from?: string;
  messagingServiceSid?: string;
}

export class WhatsAppSender {
  constructor(
    private readonly client: Twilio,
    private readonly sender: Sender,
    private readonly store: () => Store,
    private readonly logger: () => Logger,
  ) {}

  /** Post a reply, in parts when long; parts already posted under `key` are skipped. */
  async send(conversation: ConversationRef, reply: Reply, key?: string): Promise<Delivery> {
    const details = conversation.details as WhatsAppDetails;
    const ids: string[] = [];
    for (const [index, part] of replyParts(reply).entries()) {
      const marker = key ? whatsappKeys.part(key, index) : undefined;
      const posted = marker ? await this.store().get(marker) : undefined;
      if (posted) {
        this.logger().debug({ key, part: index }, 'part already sent before a retry; not sending it again');
        ids.push(posted);
        continue;
      }
      const sid = await this.create(details.from, part);
      ids.push(sid);
      if (marker) await this.store().set(marker, sid, MARKER_TTL_MS);
    }
    return { ids };
  }

  private async create(to: string, body: string): Promise<string> {
    try {
      const message = await this.client.messages.create({ to, body, ...this.sender });
      return message.sid;
    } catch (error) {
      throw classifyTwilioError(error);
    }
  }
}

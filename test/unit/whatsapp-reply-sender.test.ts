/**
 * Who a WhatsApp reply is sent from (send.ts's replySender): the number the person wrote to, the
 * inbound `To` carried in the job's details; the configured sender when the details have none.
 * And the bot's own numbers (own-numbers.ts), whose messages are not answered.
 */
import { describe, expect, it } from 'vitest';
import { parseTwilioWebhook, type WhatsAppDetails } from '../../adapters/whatsapp/inbound.js';
import { OwnNumbers } from '../../adapters/whatsapp/own-numbers.js';
import { replySender } from '../../adapters/whatsapp/send.js';
import { BOT_NUMBER, SECOND_BOT_NUMBER, USER_NUMBER, whatsappMessage } from '../helpers/twilio-webhooks.js';

const SERVICE = `MG${'b2'.repeat(16)}`;

describe('replySender', () => {
  it('is the number the person wrote to, in place of TWILIO_WHATSAPP_FROM; a Messaging Service picks its own', () => {
    const details = { from: USER_NUMBER, to: SECOND_BOT_NUMBER };
    expect(replySender({ from: BOT_NUMBER }, details)).toEqual({ from: SECOND_BOT_NUMBER });
    // A Messaging Service picks its own sender from its pool: left to it.
    expect(replySender({ messagingServiceSid: SERVICE }, details)).toEqual({ messagingServiceSid: SERVICE });
    expect(replySender({ from: BOT_NUMBER, messagingServiceSid: SERVICE }, details)).toEqual({ from: BOT_NUMBER, messagingServiceSid: SERVICE });
  });

  it('reads the To of a parsed webhook', () => {
    const parsed = parseTwilioWebhook(whatsappMessage({ To: SECOND_BOT_NUMBER }));
    if (parsed.kind !== 'message') throw new Error(`not a message: ${parsed.kind}`);
    expect(replySender({ from: BOT_NUMBER }, parsed.message.conversation.details as WhatsAppDetails)).toEqual({ from: SECOND_BOT_NUMBER });
  });

  it('keeps the configured sender for details without a WhatsApp To: none, not a string, not a whatsapp: number', () => {
    for (const details of [undefined, { from: USER_NUMBER }, { from: USER_NUMBER, to: 42 }, { from: USER_NUMBER, to: '+14155238886' }, { from: USER_NUMBER, to: 'whatsapp:+1 415' }]) {
      expect(replySender({ from: BOT_NUMBER }, details as Partial<WhatsAppDetails> | undefined)).toEqual({ from: BOT_NUMBER });
      expect(replySender({ messagingServiceSid: SERVICE }, details as Partial<WhatsAppDetails> | undefined)).toEqual({ messagingServiceSid: SERVICE });
    }
  });
});

describe('OwnNumbers', () => {
  it('knows every number noted, forgetting the one least lately seen past its bound', () => {
    const own = new OwnNumbers(2);
    const third = 'whatsapp:+447700900999';
    expect(own.has(BOT_NUMBER)).toBe(false);
    own.note(BOT_NUMBER);
    own.note(SECOND_BOT_NUMBER);
    own.note(BOT_NUMBER); // seen again: now the latest
    own.note(third);
    expect([BOT_NUMBER, SECOND_BOT_NUMBER, third].map((n) => own.has(n))).toEqual([true, false, true]);
  });
});

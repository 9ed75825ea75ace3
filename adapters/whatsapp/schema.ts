/**
 * What the WhatsApp adapter accepts from Twilio, checked after the signature. Every value is a
 * string (a form); a parameter Twilio sends once arrives as a list when repeated, and does not fit.
 * Ids are capped: they become store and rate-limit keys.
 */
import { z } from 'zod';

const id = z.string().min(1).max(255);

/** Most media a WhatsApp message can carry; a larger NumMedia is not Twilio's. */
export const MAX_MEDIA = 20;

/** An inbound WhatsApp message. */
export const twilioMessage = z.looseObject({
  /** The dedupe key. */
  MessageSid: z.string().regex(/^[A-Za-z0-9]{2,64}$/, 'a Twilio SID such as SM0123…'),
  From: id,
  To: id,
  Body: z.string().optional(),
  ButtonText: z.string().optional(),
  ProfileName: z.string().max(1000).optional(),
  WaId: id.optional(),
  AccountSid: id.optional(),
  NumMedia: z
    .string()
    .regex(/^\d{1,2}$/, 'a small whole number')
    .refine((n) => Number(n) <= MAX_MEDIA, `at most ${MAX_MEDIA}`)
    .optional(),
  MessageStatus: z.string().optional(),
});

/** A status callback about a message we sent: answered and otherwise ignored. */
export const twilioStatusCallback = z.looseObject({ MessageStatus: z.string().min(1), MessageSid: z.string().optional() });

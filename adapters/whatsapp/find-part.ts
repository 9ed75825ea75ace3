/**
 * Looking for a part whose send timed out after it went out (MaybePostedError): Twilio may have
 * created the message all the same. Twilio keeps no idempotency key, so the part is known by its
 * body: an outbound message from the part's sender (send.ts's replySender: the number the person
 * wrote to, or the configured one) to the person, created since the send, with the part's exact
 * text (when that number is not the configured one and nothing is found, WhatsAppSender.findPart
 * looks once more from the configured one, which versions before replySender sent from). Read
 * from the Messages list (newest first, by date sent), not filtered on DateSent, which a message
 * still queued does not have yet.
 */
import type { Twilio } from 'twilio';
import type { MessageInstance } from 'twilio/lib/rest/api/v2010/account/message.js';
import type { Sender } from './send.js';

/**
 * Clocks differ (ours, Twilio's, whose dates are whole seconds): a few seconds' margin. Kept short,
 * since a reply of the same text sent to the person earlier inside it would be taken for this
 * part, which would then never be sent.
 */
const CLOCK_MARGIN_MS = 5_000;
const PAGE_SIZE = 50;
/** Bounded: a retry comes within minutes of the send; 200 messages to one person in between is beyond any conversation. */
const MAX_PAGES = 4;

/** A page of the Messages list as the SDK reads it (its nextPage is typed as a bare Page). */
interface ListPage {
  instances: MessageInstance[];
  nextPage(): Promise<ListPage> | undefined;
}

/** The SID of the message Twilio made of `body`, sent to `to` since `since` (epoch ms), if there is one. */
export async function findSentMessage(client: Twilio, sender: Sender, to: string, body: string, since: number): Promise<string | undefined> {
  const after = since - CLOCK_MARGIN_MS;
  const ours = (m: MessageInstance) =>
    String(m.direction).startsWith('outbound') && (sender.from ? m.from === sender.from : m.messagingServiceSid === sender.messagingServiceSid);
  let page: ListPage = await client.messages.page({ to, ...(sender.from ? { from: sender.from } : {}), pageSize: PAGE_SIZE });
  for (let read = 1; ; read++) {
    // No early stop at the first message sent before the window: where Twilio lists one still
    // queued (no date_sent yet) among the sent ones is not documented, so a few pages are read.
    const found = page.instances.find((m) => ours(m) && m.body === body && (m.dateCreated?.getTime() ?? 0) >= after);
    if (found) return found.sid;
    const next = read < MAX_PAGES ? page.nextPage() : undefined;
    if (!next) return undefined;
    page = await next;
  }
}

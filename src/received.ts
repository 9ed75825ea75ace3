/**
 * What an adapter's `receive` returns: part of the adapter contract (adapter.ts re-exports it).
 */
import type { HttpResponse } from './adapter.js';
import type { InboundMessage } from './message.js';

export type { Outcome } from './outcome.js';

/** What `receive` found in a webhook: the answer for the platform and the messages to handle. */
// `any` by default, as InboundMessage's, so a `Promise<Received>` annotation still fits any adapter.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Received<TDetails extends object = any> {
  response: HttpResponse;
  /** Their `conversation.details` are the adapter's `TDetails`. */
  messages: InboundMessage<TDetails>[];
  /**
   * Work that must not hold up the platform's answer (Slack: the developer's Bolt listeners for an
   * event parley acknowledged itself). Run once the answer has been written, and only when it is a
   * success (the messages were taken); a failure is logged.
   */
  afterAck?(): Promise<void>;
  /**
   * Run `afterAck` before answering, once the messages are taken: in a serverless function,
   * which is frozen as soon as it has answered (Bolt's processBeforeResponse).
   */
  afterAckBeforeResponse?: boolean;
  /**
   * For a sender that can be told "not now" (a 429 with Retry-After its user sees): a message a
   * core limit refuses (RATE_LIMIT_USER_PER_MINUTE…) is answered with this instead of a notice in
   * its conversation, and its id is not spent, so the same message sent again later is taken.
   */
  overLimit?(refusal: LimitRefusal): HttpResponse;
  /**
   * Run for each message once it is taken (first delivery, within the limits), before it is
   * queued: what must be kept only for a message that will be answered (a transcript's turn).
   */
  taken?(message: InboundMessage<TDetails>): Promise<void>;
  /**
   * Set when this request is the platform's last delivery of its messages (Slack's third retry):
   * `id` names the delivery (Slack's event_id). Not taken, they are lost, so the failure is named
   * at error on its own line, never summarised. Absent: the platform may send it again.
   */
  lastDelivery?: { id: string | undefined };
}

/** A message a core limit refused: which limit ("user", "conversation", "tenant") and when to send it again. */
export interface LimitRefusal {
  limit: string;
  retryAfterMs: number;
}

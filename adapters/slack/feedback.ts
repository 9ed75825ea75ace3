/**
 * Feedback on answers in Slack: the last part of every AI answer carries Slack's feedback buttons
 * for AI apps (a `context_actions` block with a `feedback_buttons` element, values
 * `good:<exchange>` / `bad:<exchange>`, the exchange being the job that answered; the block_id
 * also names the conversation the exchange was logged under). A click
 * arrives as a signed `block_actions` payload; parley's own Bolt listeners (so the developer's
 * listeners still run) hand it to `AdapterContext.feedback`, and a 👎 it kept opens a modal
 * asking for a short reason, stored with the rating when it is submitted.
 */
import type { App, types } from '@slack/bolt';
import type { Logger } from 'pino';
import { MAX_REASON_CHARS, exchangeOf, splitMessage, type Feedback, type ReplyPart } from 'parley/adapter-kit';

/** The feedback buttons' action_id: parley's own. */
export const FEEDBACK_ACTION = 'parley_feedback';
/** The callback_id of the modal asking a 👎 for its reason. */
export const REASON_CALLBACK = 'parley_feedback_reason';
/** A section block's text holds at most 3000 characters; a part (3900) takes two. */
const SECTION_CHARS = 3000;

/** A block_id holds at most 255 characters. */
const BLOCK_ID_CHARS = 255;

/**
 * The block_id: `parley_feedback:<exchange>:<conversation>`. The conversation id is carried
 * because a click cannot always rebuild it: once a top-level DM answer has replies, Slack gives
 * it a thread_ts (its own ts), though the exchange was logged under the DM's top level.
 */
function feedbackBlockId(exchange: string, conversation: string | undefined): string {
  const full = `${FEEDBACK_ACTION}:${exchange}:${conversation ?? ''}`;
  return conversation && full.length <= BLOCK_ID_CHARS ? full : `${FEEDBACK_ACTION}:${exchange}`.slice(0, BLOCK_ID_CHARS);
}

/** The context_actions block with 👍/👎 for one exchange of a conversation. */
export function feedbackBlock(exchange: string, conversation?: string): types.KnownBlock {
  return {
    type: 'context_actions',
    block_id: feedbackBlockId(exchange, conversation),
    elements: [
      {
        type: 'feedback_buttons',
        action_id: FEEDBACK_ACTION,
        positive_button: { text: { type: 'plain_text', text: '👍' }, accessibility_label: 'Good answer', value: `good:${exchange}` },
        negative_button: { text: { type: 'plain_text', text: '👎' }, accessibility_label: 'Bad answer', value: `bad:${exchange}` },
      },
    ],
  };
}

/** A message part (mrkdwn) as blocks: its text in sections, then the feedback buttons. With blocks, `text` is only the notification's. */
export function answerBlocks(text: string, exchange: string, conversation?: string): types.KnownBlock[] {
  const sections = splitMessage(text, SECTION_CHARS).map((chunk): types.KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text: chunk } }));
  return [...sections, feedbackBlock(exchange, conversation)];
}

/** The last part of an AI answer carries the feedback buttons: its text then goes in blocks. */
export function feedbackOn(text: string, part: ReplyPart | undefined, conversation: string): { blocks?: types.KnownBlock[] } {
  return part?.key && part.kind === 'answer' && part.index === part.total - 1 ? { blocks: answerBlocks(text, exchangeOf(part.key), conversation) } : {};
}

export interface FeedbackListenerOptions {
  /** The bot's `AdapterContext.feedback` (once the adapter has started). */
  feedback(feedback: Feedback): Promise<boolean>;
  logger(): Logger;
}

/** What a 👎's modal carries to its submission. */
interface ReasonMetadata {
  conversation: string;
  exchange: string;
}

/** Parley's listeners for the feedback buttons and the reason modal, on the adapter's Bolt App. */
export function listenForFeedback(app: App, options: FeedbackListenerOptions): void {
  app.action({ type: 'block_actions', action_id: FEEDBACK_ACTION }, async ({ ack, body, action, client }) => {
    await ack();
    const { value, block_id: blockId } = action as { value?: unknown; block_id?: unknown };
    const [rating, ...rest] = typeof value === 'string' ? value.split(':') : [];
    const exchange = rest.join(':');
    const conversation = conversationInBlockId(blockId, exchange) ?? conversationOf(body as unknown as ActionBody);
    if ((rating !== 'good' && rating !== 'bad') || !exchange || !conversation) {
      options.logger().warn({ value }, 'a feedback click without a rating, an exchange or a conversation; ignored');
      return;
    }
    const kept = await record(options, { platform: 'slack', conversation: { platform: 'slack', id: conversation }, exchange, rating, user: body.user.id });
    // Ask a 👎 for its reason only once the rating is kept: a reason for an exchange the log does not
    // hold would be dropped. The record is one store write, well within the trigger_id's 3 s.
    if (rating !== 'bad' || !kept) return;
    try {
      await client.views.open({ trigger_id: (body as { trigger_id: string }).trigger_id, view: reasonModal({ conversation, exchange }) });
    } catch (error) {
      options.logger().warn({ err: error }, 'could not open the feedback reason modal');
    }
  });

  app.view({ type: 'view_submission', callback_id: REASON_CALLBACK }, async ({ ack, body, view }) => {
    await ack();
    const metadata = parseMetadata(view.private_metadata);
    const reason = view.state?.values?.reason?.reason?.value?.trim();
    if (!metadata || !reason) return;
    await record(options, { platform: 'slack', conversation: { platform: 'slack', id: metadata.conversation }, exchange: metadata.exchange, rating: 'bad', reason, user: body.user.id });
  });
}

/** Whether the rating was kept (false: no such exchange in the log, or the store failed). */
async function record(options: FeedbackListenerOptions, feedback: Feedback): Promise<boolean> {
  try {
    return await options.feedback(feedback);
  } catch (error) {
    options.logger().error({ err: error, exchange: feedback.exchange }, 'could not store the feedback');
    return false;
  }
}

/** The fields of a block_actions payload that name the conversation, as the event it answered did. */
interface ActionBody {
  team?: { id?: string } | null;
  user: { team_id?: string };
  channel?: { id?: string };
  container?: { channel_id?: string; thread_ts?: string };
  message?: { ts?: string; thread_ts?: string };
}

/** The conversation id the block_id carries (buttons posted before it did carry none). */
function conversationInBlockId(blockId: unknown, exchange: string): string | undefined {
  const prefix = `${FEEDBACK_ACTION}:${exchange}:`;
  return typeof blockId === 'string' && exchange && blockId.startsWith(prefix) && blockId.length > prefix.length ? blockId.slice(prefix.length) : undefined;
}

/**
 * For buttons without it: the conversation id parley gave the message answered,
 * `<team>:<channel>:<thread ts, or '' at a DM's top level>`. parley answers in a thread or at a
 * DM's top level, so an answer that is its own thread's parent was a top-level one.
 */
function conversationOf(body: ActionBody): string | undefined {
  const team = body.team?.id ?? body.user.team_id;
  const channel = body.channel?.id ?? body.container?.channel_id;
  if (!team || !channel) return undefined;
  const thread = body.message?.thread_ts ?? body.container?.thread_ts;
  return `${team}:${channel}:${thread && thread !== body.message?.ts ? thread : ''}`;
}

function reasonModal(metadata: ReasonMetadata): types.ModalView {
  return {
    type: 'modal',
    callback_id: REASON_CALLBACK,
    private_metadata: JSON.stringify(metadata),
    title: { type: 'plain_text', text: 'Feedback' },
    submit: { type: 'plain_text', text: 'Send' },
    close: { type: 'plain_text', text: 'Skip' },
    blocks: [
      {
        type: 'input',
        block_id: 'reason',
        label: { type: 'plain_text', text: 'What was wrong with the answer?' },
        element: { type: 'plain_text_input', action_id: 'reason', multiline: true, max_length: MAX_REASON_CHARS, placeholder: { type: 'plain_text', text: 'A few words help us improve.' } },
      },
    ],
  };
}

function parseMetadata(text: string): ReasonMetadata | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<ReasonMetadata> | null;
    return typeof parsed?.conversation === 'string' && typeof parsed.exchange === 'string' ? { conversation: parsed.conversation, exchange: parsed.exchange } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A chat.startStream whose answer was lost (a timeout, a page that is not Slack's JSON,
 * `internal_error`) may have started a message all the same: without it, the reply would be posted
 * whole beside a message left streaming with its first part. It is looked for in the thread
 * (conversations.replies since the call): the bot's own message Slack still shows streaming
 * (`streaming_state: in_progress`, a field of Slack's messages). parley answers a conversation one
 * reply at a time and stops every stream it starts, so that one is this reply's. More than one (a
 * broken stream of an earlier reply no stop reached) and it cannot tell which: none is taken.
 */
import type { Logger } from 'pino';

const STARTING = 'starting:';

/**
 * The stream note's value while a start is out (send.ts notes it just before the start goes out): a
 * process killed then leaves a message nothing knows the ts of, which its retry looks for from this time.
 */
export const startOut = (since: number): string => `${STARTING}${since}`;

/** When the start a note says is out was sent; undefined when the note holds a started message's ts. */
export function startOutSince(note: string): number | undefined {
  return note.startsWith(STARTING) ? Number(note.slice(STARTING.length)) : undefined;
}

/** Pages of 100 messages read at most: a thread is one conversation, a few pages are plenty. */
const PAGES = 3;

interface Page {
  messages?: { ts?: string; user?: string; bot_id?: string; streaming_state?: string }[];
  response_metadata?: { next_cursor?: string };
}

/** Who the bot is (auth.test): its user id and bot id. */
interface Identity {
  user_id?: string;
  bot_id?: string;
}

/**
 * The ts of the bot's one message still streaming in the thread since `since` (epoch ms), reading
 * pages through `read`; undefined when there is none or more, or the look fails (then the reply is
 * posted as before, beside whatever the start may have begun) — unless `lookLater` says of its
 * failure that the job should rather wait for Slack and look again (a retry's look: it is thrown).
 */
export async function findLostStart(read: (page: object) => Promise<Page>, whoAmI: () => Promise<Identity>, since: number, logger: Logger, lookLater?: (error: unknown) => boolean): Promise<string | undefined> {
  try {
    const ts = await findStreaming(read, await whoAmI(), since);
    if (ts !== undefined) logger.warn({ ts }, 'a stream start Slack did not answer had begun a message: finishing that one');
    return ts;
  } catch (error) {
    if (lookLater?.(error)) throw error;
    logger.warn({ err: error }, 'could not look for the message a stream start Slack did not answer may have begun');
    return undefined;
  }
}

async function findStreaming(read: (page: object) => Promise<Page>, me: Identity, since: number): Promise<string | undefined> {
  // A minute's margin for clocks (and the call's own wait): whose message, and that it streams, decide.
  const window = { oldest: String(Math.floor(since / 1000) - 60), limit: 100 };
  const ours = (m: NonNullable<Page['messages']>[number]) => (me.user_id !== undefined && m.user === me.user_id) || (me.bot_id !== undefined && m.bot_id === me.bot_id);
  const streaming: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < PAGES; page++) {
    const found = await read({ ...window, ...(cursor ? { cursor } : {}) });
    for (const m of found.messages ?? []) if (m.ts && m.streaming_state === 'in_progress' && ours(m)) streaming.push(m.ts);
    cursor = found.response_metadata?.next_cursor || undefined;
    if (!cursor) break;
  }
  return streaming.length === 1 ? streaming[0] : undefined;
}

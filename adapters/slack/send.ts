/** Posting to Slack: one part of a reply (the core splits and formats it), 429s waited out within bounds, streaming with a fallback, the "is thinking…" status. */
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { collectShowingNothing, exchangeOf, nothingShown, shownTextTakenBack, waitOutRetryAfter, type ConversationRef, type ReplyPart, type StreamDelivery, type Store } from 'parley/adapter-kit';
import { classify, readable } from './classify.js';
import type { SlackDetails } from './events.js';
import { feedbackBlock, feedbackOn } from './feedback.js';
import { findKeyedMessage, keyedMetadata, partMetadata } from './find-part.js';
import { InertMentionStream, inertMentions } from './inert-mentions.js';
import { findLostStart, startOut } from './lost-start.js';
import { RefusedTokens } from './refused-tokens.js';
import { StreamNotes, streamKeys, textShown } from './stream-notes.js';
import { afterFirstChunk, passing, stopEarlierStream, stopEarlierStreamBefore, takeBackEarlierStream, type TakeBack } from './take-back.js';
import { UnstoppedStreams, finishStream, outcomeUnknown, refusalOf, replyKeyOf, waitRetryAfter, type Finished } from './stream-finish.js';

/** Slack truncates long messages and recommends staying under 4,000 characters. */
export const MAX_MESSAGE_CHARS = 3900;
/** The longest 429 waited out in place, on every call of a reply (Adapter.maxInlineWaitMs): limits are per workspace, and a longer wait is the queue's. */
export const MAX_INLINE_WAIT_MS = 2_000;
/** How long a thread the bot answered (or was asked) in stays one whose follow-ups it answers. */
export const THREAD_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** Refusals of a token that may only need refreshing (token rotation) or be replaced (a reinstall): renewed once, then as above. */
const REFUSED_TOKEN = new Set(['token_expired', 'invalid_auth', 'token_revoked']);

export const slackKeys = {
  answeredThread: (team: string, channel: string, threadTs: string) => `parley:slack:thread:${team}:${channel}:${threadTs}`,
};
/** The characters the WebClient's streamer holds before it sends (its default): the append that reaches it sends the start. */
const STREAM_BUFFER = 256;

type SlackRef = ConversationRef<SlackDetails>;
/** A stream's message once started (`ts`), and the process's count of give-ups when it was asked for (only the streams under way then are stopped). */
type Opened = { ts?: string; abandonments: number };
/** The feedback buttons a finished answer's last message carries, and the reply's key (a retry finds it by that). */
type Feedback = { blocks?: ReturnType<typeof feedbackBlock>[] } & ReturnType<typeof keyedMetadata>;

export class SlackSender {
  constructor(
    private readonly client: WebClient,
    private readonly store: () => Store,
    private readonly logger: () => Logger,
    /** Many workspaces (OAuth): the bot token of the conversation's installation, passed per call. */
    private readonly tokenFor?: (details: SlackDetails) => Promise<string>,
    /** Many workspaces: a new token for one Slack refused (undefined when it cannot be renewed). */
    private readonly renew?: (details: SlackDetails, refused: string) => Promise<string | undefined>,
  ) {}

  private readonly unstopped = new UnstoppedStreams();
  private readonly notes = new StreamNotes(() => this.store(), () => this.logger());
  readonly refused = new RefusedTokens(() => this.store()); // refusals for good, noted by authed(): checked before the AI is asked
  /** The messages streaming now (ts → where): stopped should the process exit before they end (stopOpenStreams). */
  private readonly open = new Map<string, SlackDetails>();
  private abandonments = 0; // times the process gave up on its replies (stopOpenStreams)

  /** The `token` argument for a call in this conversation: none with one workspace (the client has it). */
  private async auth(details: SlackDetails): Promise<{ token?: string }> {
    return this.tokenFor ? { token: await this.tokenFor(details) } : {};
  }

  /** A call with the conversation's token; one Slack refuses (rotated early, reinstalled) is renewed once, else the call fails as Slack said. */
  private async authed<T>(details: SlackDetails, call: (auth: { token?: string }) => Promise<T>): Promise<T> {
    const auth = await this.auth(details);
    try {
      return await call(auth);
    } catch (error) {
      if (!auth.token || !this.renew || !REFUSED_TOKEN.has(refusalOf(error) ?? '')) throw await this.refused.noted(auth.token, error);
      const token = await this.renew(details, auth.token);
      if (!token) throw await this.refused.noted(auth.token, error);
      return call({ token }).catch(async (again: unknown) => Promise.reject(await this.refused.noted(token, again)));
    }
  }

  /** Post one part of a reply (mrkdwn) in the conversation's thread; returns its ts. */
  async sendPart({ id, details }: SlackRef, text: string, part?: ReplyPart): Promise<string> {
    const { channel, threadTs } = details!;
    // Posted in place of a streamed answer (a spent budget's notice on a retry): a message an earlier run left streaming is stopped first.
    if (threadTs && part?.key && part.index === 0 && part.kind === 'notice') await stopEarlierStreamBefore(this.earlierStream(details!, replyKeyOf(part.key)));
    // The thread is remembered while the part is posted, before the core records it: a part on record means its thread is remembered.
    const [result] = await Promise.all([
      // A refused first part leaves the user nothing: the apology is still owed. A later one follows parts already shown.
      classify(
        () => this.authed(details!, (auth) => this.client.chat.postMessage({ ...auth, channel, text, mrkdwn: true, ...(threadTs ? { thread_ts: threadTs } : {}), ...feedbackOn(text, part, id), ...partMetadata(part) })),
        (part?.index ?? 0) === 0,
      ),
      this.rememberThread(details!),
    ]);
    if (part?.key && part.index === part.total - 1) this.stopLeftStreaming(details!, part.key);
    return String(result.ts ?? '');
  }

  /** A part whose post timed out may have been posted all the same: looked for by its key (find-part.ts). */
  async findPart({ details }: SlackRef, part: ReplyPart, since: number): Promise<string | undefined> {
    return part.key ? this.findKeyed(details!, part.key, since) : undefined;
  }

  /** The message carrying `key` (a part's, or a streamed reply's) since `since`, in the thread or the channel (find-part.ts). */
  private findKeyed(details: SlackDetails, key: string, since: number): Promise<string | undefined> {
    const { channel, threadTs } = details;
    const read = (page: object) =>
      this.call(() => this.authed(details, (auth) => (threadTs ? this.client.conversations.replies({ ...auth, ...page, channel, ts: threadTs }) : this.client.conversations.history({ ...auth, ...page, channel }))));
    return findKeyedMessage(read, key, since);
  }

  /**
   * Stream a reply with chat.startStream/appendStream/stopStream. Text already shown is never
   * posted again: a stream that fails after it started is finished with the rest of the text;
   * what could not be shown (no thread to stream in, a stream that never started or could not be
   * finished) comes back as `rest`, for the core to post in parts.
   */
  async stream(ref: SlackRef, chunks: AsyncIterable<string>, key?: string, platformFailed?: (error: unknown) => void): Promise<StreamDelivery> {
    // The count now, before any wait: a stream asked for before the process gave up is stopped as it starts.
    const opened: Opened = { abandonments: this.abandonments };
    try {
      return await this.streamIn(ref, chunks, key, opened, platformFailed);
    } finally {
      if (opened.ts !== undefined) this.open.delete(opened.ts);
    }
  }

  /** Stop every message still streaming, as it is: the process exits past SHUTDOWN_TIMEOUT_MS, and one left streaming would stay so. */
  async stopOpenStreams(): Promise<void> {
    this.abandonments++; // a stream whose start is on its way now is stopped as it starts
    const open = [...this.open];
    this.open.clear();
    await Promise.all(open.map(([ts, details]) => this.stopNow(ts, details)));
  }

  private stopNow(ts: string, details: SlackDetails): Promise<unknown> {
    return this.authed(details, (auth) => this.client.chat.stopStream({ ...auth, channel: details.channel, ts })).catch(() => undefined);
  }

  private async streamIn({ id, details }: SlackRef, chunks: AsyncIterable<string>, key: string | undefined, opened: Opened, platformFailed?: (error: unknown) => void): Promise<StreamDelivery> {
    const { channel, threadTs, team, user, userTeam } = details!;
    let text = '';
    if (!threadTs) {
      // No thread to stream in (a DM outside one): collected, so an AI failure showed nothing.
      text = await collectShowingNothing(chunks);
      return { ids: [], text, rest: text };
    }
    // An earlier run streamed the whole reply and was killed before the core marked it sent: not shown again (its text, where noted, is the reply's).
    const finished = await this.notes.finishedBefore(key, (reply, since) => this.findKeyed(details!, reply, since));
    if (finished !== undefined) return { ids: [finished.ts], text: await textShown(finished, collectShowingNothing(chunks)) };
    // The streamer takes its token from append/stop (it drops one given here).
    const auth = await this.auth(details!);
    // What an earlier run of this reply left half-streamed: stopped while the AI begins, taken back as this run's answer does.
    const earlier = key ? this.earlierStream(details!, key) : undefined;
    const note = earlier && stopEarlierStream(earlier.slack, earlier.marker);
    void note?.catch(() => undefined); // a store failing surfaces at the first chunk
    const source = earlier ? afterFirstChunk(chunks, async () => takeBackEarlierStream(earlier.slack, earlier.marker, await note)) : chunks;
    const streamer = this.client.chatStream({ channel, thread_ts: threadTs, recipient_team_id: userTeam ?? team, recipient_user_id: user, buffer_size: STREAM_BUFFER });
    // Noted just before the start goes out (the append that fills the buffer, or the stop), so a retry finds what a killed run began; not sooner, or it would take an earlier reply's.
    let held = 0; // what the streamer holds before its start
    const noteIfStartGoesOut = async (adding: number) => {
      if (key && streamer.ts === undefined && (held += adding) >= STREAM_BUFFER) await this.notes.started(key, startOut(Date.now()));
    };
    let shown = 0; // how much of `text` Slack has accepted: the streamer buffers, and answers null until it sends
    let startCarried = 0; // how much of `text` a start whose answer was lost carried
    const inert = new InertMentionStream(); // what Slack is sent cannot ping (inert-mentions.ts); it may hold a few characters back
    let failure: unknown;
    let failedAt = 0;
    let stopFailed = false; // the failure is the stop's, which carried all the text not shown yet
    let noted = false; // the started message's ts is kept: a retry finds it
    const feedback: Feedback = key ? { blocks: [feedbackBlock(exchangeOf(key), id)], ...keyedMetadata(key) } : {};
    try {
      for await (const chunk of source) {
        text += chunk;
        if (failure) continue; // keep reading: the text still has to reach the user
        try {
          const started = streamer.ts === undefined;
          const markdown = inert.push(chunk);
          await noteIfStartGoesOut(markdown.length);
          if ((await streamer.append({ markdown_text: markdown, ...auth })) !== null) shown = text.length - inert.heldChars;
          if (started && streamer.ts !== undefined) {
            this.open.set((opened.ts = streamer.ts), details!);
            if (this.abandonments !== opened.abandonments) void this.stopNow(streamer.ts, details!);
            // Kept before more is shown: a process killed mid-stream leaves a message its retry must take back.
            if (key) noted = await this.notes.started(key, streamer.ts);
          }
        } catch (error) {
          failure = readable(error); // logged: a proxy's page left out
          failedAt = Date.now();
          if (streamer.ts === undefined) startCarried = text.length - inert.heldChars; // all the streamer held
        }
      }
    } catch (aiFailure) {
      // The AI failed mid-way: a started message is finished with what the AI gave, not left
      // streaming; the job then fails as the AI's error says, and a stop Slack failed is reported.
      const refused = streamer.ts === undefined ? undefined : (await this.finishBrokenStream(details!, streamer.ts, text.slice(shown), aiFailure)).failure;
      if (refused !== undefined) platformFailed?.(refused);
      await note?.catch(() => undefined); // an earlier run's message is stopped before the job fails
      // Nothing reached Slack yet (the streamer was still buffering): the AI may simply be asked again. Shown, its
      // message noted: asked again too, the retry taking that message back as its answer begins (its note stays).
      throw streamer.ts === undefined ? nothingShown(aiFailure) : noted ? shownTextTakenBack(aiFailure) : aiFailure;
    }
    if (!failure) {
      try {
        await noteIfStartGoesOut(Infinity); // the stop sends it
        await streamer.stop({ ...auth, ...feedback, markdown_text: inert.end() });
      } catch (error) {
        failure = readable(error);
        failedAt = Date.now();
        stopFailed = true;
      }
    }
    if (!failure) {
      await this.notes.finished(key, streamer.ts ?? '', text);
      await this.rememberStreamedThread(details!);
      return { ids: [streamer.ts ?? ''], text };
    }
    // A lost start's answer may have begun the message (finished as any broken stream); one deleted mid-stream took what it showed: all is posted.
    const gone = refusalOf(failure) === 'message_not_found';
    const ts = gone ? undefined : (streamer.ts ?? (outcomeUnknown(failure) ? await this.lostStart(details!, failedAt) : undefined));
    if (ts === undefined) {
      this.logger().warn({ err: failure }, `Slack streaming failed ${gone ? 'as its message is gone' : 'before it started'}; posting the reply as one message`);
      this.notes.forget(key);
      return { ids: [], text, rest: text };
    }
    // A 429 said when to call again: the stop waits for it. The message that ends the answer keeps the feedback buttons.
    await waitRetryAfter(failure, failedAt, MAX_INLINE_WAIT_MS);
    const { left: rest } = await this.finishBrokenStream(details!, ts, text.slice(streamer.ts ? shown : startCarried), failure, feedback, stopFailed && !!streamer.ts && outcomeUnknown(failure), key);
    // Stopped with the whole answer: nothing for a retry to take back. Not stopped, its rest is the
    // core's to post, which keeps the answer first (a retry then finishes it and never streams
    // again); killed before that, the retry must take this message back: the note stays.
    if (!rest) await this.notes.finished(key, ts, text);
    return { ids: [ts], text, ...(rest ? { rest } : {}) };
  }

  /** The message a start whose answer was lost began (lost-start.ts): undefined when there is none, it cannot be told, or the look fails. */
  private lostStart(details: SlackDetails, since: number, lookLater?: (error: unknown) => boolean): Promise<string | undefined> {
    const slack = <T>(call: (auth: { token?: string }) => Promise<T>) => this.call(() => this.authed(details, call));
    const read = (page: object) => slack((auth) => this.client.conversations.replies({ ...auth, ...page, channel: details.channel, ts: details.threadTs! }));
    return findLostStart(read, () => slack((auth) => this.client.auth.test(auth)), since, this.logger(), lookLater);
  }

  /** A message an earlier run of this reply began to stream and never finished (killed, or its AI broke off): stopped, then taken back (take-back.ts). */
  private earlierStream(details: SlackDetails, key: string): { slack: TakeBack; marker: string } {
    const slack: TakeBack = {
      store: this.store(), logger: this.logger(),
      lostStart: (since) => this.lostStart(details, since, passing),
      stop: (ts) => this.authed(details, (auth) => this.client.chat.stopStream({ ...auth, channel: details.channel, ts })),
      remove: (ts) => this.call(() => this.authed(details, (auth) => this.client.chat.delete({ ...auth, channel: details.channel, ts }))),
    };
    return { slack, marker: streamKeys.started(key) };
  }

  /** A started stream failed: stopped with the text not shown yet (stream-finish.ts). `stopUnanswered`: the failed stop carried all that text and had no answer. */
  private async finishBrokenStream(details: SlackDetails, ts: string, rest: string, failure: unknown, feedback: Feedback = {}, stopUnanswered = false, key?: string): Promise<Finished> {
    const stop = (markdownText: string | undefined, endsAnswer: boolean) =>
      this.call(() => this.authed(details, (auth) => this.client.chat.stopStream({ ...auth, channel: details.channel, ts, ...(markdownText ? { markdown_text: inertMentions(markdownText) } : {}), ...(endsAnswer ? feedback : {}) })));
    const { left, stopped, failure: refused } = await finishStream(stop, rest, stopUnanswered, inertMentions);
    if (!left) this.logger().warn({ err: failure }, 'Slack streaming failed mid-way; finished the message with the rest of the text');
    else this.logger().warn({ err: failure, stopped, leftChars: left.length }, 'Slack streaming failed mid-way; posting the rest of the text as a new message');
    if (!stopped && left && key) this.unstopped.add(key, ts);
    await this.rememberStreamedThread(details);
    return { left, stopped, failure: refused };
  }

  /** The rest of a stream no stop could end is posted (its last part, `partKey`): one more try to stop it, not waited for. */
  private stopLeftStreaming(details: SlackDetails, partKey: string): void {
    const ts = this.unstopped.take(partKey);
    if (ts === undefined) return;
    void this.authed(details, (auth) => this.client.chat.stopStream({ ...auth, channel: details.channel, ts })).then(
      () => this.logger().info({ ts }, 'stopped the broken stream after its rest was posted'),
      (error: unknown) => this.logger().warn({ err: error, ts }, 'could not stop the broken stream; Slack shows it as still streaming'),
    );
  }

  /** After a stream has stopped its message is whole: a thread not remembered then costs its follow-ups a mention, never a second copy (not a failed stream). */
  private async rememberStreamedThread(details: SlackDetails): Promise<void> {
    await this.rememberThread(details).catch((error: unknown) => this.logger().warn({ err: error }, 'could not remember the Slack thread after a streamed reply'));
  }

  /** Show "is thinking…" in the thread while the AI works; clear it after. Assistant threads only show it. */
  async status({ details }: SlackRef, thinking: boolean): Promise<void> {
    if (!details?.threadTs) return;
    await this.authed(details, (auth) => this.client.assistant.threads.setStatus({ ...auth, channel_id: details.channel, thread_ts: details.threadTs!, status: thinking ? 'is thinking…' : '' }));
  }

  private async rememberThread(details: SlackDetails): Promise<void> {
    if (details.threadTs) await this.store().set(slackKeys.answeredThread(details.team, details.channel, details.threadTs), '1', THREAD_TTL_MS);
  }

  /** One Web API call outside a reply part (the core waits for those): a 429 up to MAX_INLINE_WAIT_MS is waited out here, anything longer (or Slack not reachable) goes to the queue. */
  private call<T>(fn: () => Promise<T>): Promise<T> {
    return waitOutRetryAfter(() => classify(fn), { maxWaitMs: MAX_INLINE_WAIT_MS, onWait: (waitMs) => this.logger().info({ waitMs }, 'Slack answered 429; waiting as Retry-After says') });
  }
}

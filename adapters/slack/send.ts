/**
 * Posting to Slack: mrkdwn, long replies in parts, 429s waited out within bounds, streaming
 * with a fallback, the "is thinking…" status.
 */
import { ErrorCode, type WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { PermanentError, RetryAfterError, type ConversationRef, type Delivery, type Reply, type Store } from '../../src/index.js';
import { splitMessage } from '../../src/text/index.js';
import { markdownToMrkdwn } from './mrkdwn.js';
import type { SlackDetails } from './events.js';

/** Slack truncates long messages and recommends staying under 4,000 characters. */
const MAX_MESSAGE_CHARS = 3900;
/** A 429 asking for longer than this goes back to the queue (which waits without holding a worker). */
const MAX_INLINE_WAIT_MS = 10_000;
const MAX_INLINE_RETRIES = 3;
const MARKER_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** Errors that will not go away by trying again: the message is dead-lettered at once. */
const PERMANENT = new Set([
  'channel_not_found', 'not_in_channel', 'is_archived', 'invalid_auth', 'account_inactive', 'token_revoked',
  'no_permission', 'missing_scope', 'msg_too_long', 'invalid_blocks', 'restricted_action', 'thread_not_found',
]);

export const slackKeys = {
  answeredThread: (team: string, channel: string, threadTs: string) => `parley:slack:thread:${team}:${channel}:${threadTs}`,
  part: (key: string, index: number) => `parley:slack:part:${key}:${index}`,
};

export class SlackSender {
  constructor(
    private readonly client: WebClient,
    private readonly store: () => Store,
    private readonly logger: () => Logger,
  ) {}

  /** Post a reply, in parts when long; parts already posted under `key` are skipped. */
  async send(conversation: ConversationRef, reply: Reply, key?: string): Promise<Delivery> {
    const details = conversation.details as SlackDetails;
    const parts = splitMessage(markdownToMrkdwn(reply.text), MAX_MESSAGE_CHARS);
    const ids: string[] = [];
    for (const [index, part] of parts.entries()) {
      const marker = key ? slackKeys.part(key, index) : undefined;
      const posted = marker ? await this.store().get(marker) : undefined;
      if (posted) {
        ids.push(posted);
        continue;
      }
      const result = await this.call(() =>
        this.client.chat.postMessage({ channel: details.channel, text: part, mrkdwn: true, ...(details.threadTs ? { thread_ts: details.threadTs } : {}) }),
      );
      const ts = String(result.ts ?? '');
      ids.push(ts);
      if (marker) await this.store().set(marker, ts, MARKER_TTL_MS);
    }
    await this.rememberThread(details);
    return { ids };
  }

  /**
   * Stream a reply with chat.startStream/appendStream/stopStream; one message when streaming is
   * not possible. Text already shown is never posted again: a stream that fails after it started
   * is finished with the rest of the text, or else the rest goes out as a message of its own.
   */
  async stream(conversation: ConversationRef, chunks: AsyncIterable<string>, key?: string): Promise<Delivery & { text: string }> {
    const details = conversation.details as SlackDetails;
    let text = '';
    if (!details.threadTs) {
      for await (const chunk of chunks) text += chunk;
      return { ...(await this.send(conversation, { text }, key)), text };
    }
    const streamer = this.client.chatStream({
      channel: details.channel,
      thread_ts: details.threadTs,
      recipient_team_id: details.team,
      recipient_user_id: details.user,
    });
    let shown = 0; // how much of `text` Slack has accepted: the streamer buffers, and answers null until it sends
    let failure: unknown;
    for await (const chunk of chunks) {
      text += chunk;
      if (failure) continue; // keep reading: the text still has to reach the user
      try {
        if ((await streamer.append({ markdown_text: chunk })) !== null) shown = text.length;
      } catch (error) {
        failure = error;
      }
    }
    if (!failure) {
      try {
        await streamer.stop();
        await this.rememberThread(details);
        return { ids: [streamer.ts ?? ''], text };
      } catch (error) {
        failure = error;
      }
    }
    if (streamer.ts === undefined) {
      this.logger().warn({ err: failure }, 'Slack streaming failed before it started; posting the reply as one message');
      return { ...(await this.send(conversation, { text }, key)), text };
    }
    return { ...(await this.finishBrokenStream(conversation, streamer.ts, text.slice(shown), failure, key)), text };
  }

  /** A started stream failed: stop it with the text not shown yet, or post that text on its own. */
  private async finishBrokenStream(conversation: ConversationRef, ts: string, rest: string, failure: unknown, key?: string): Promise<Delivery> {
    const details = conversation.details as SlackDetails;
    try {
      await this.call(() => this.client.chat.stopStream({ channel: details.channel, ts, ...(rest ? { markdown_text: rest } : {}) }));
      this.logger().warn({ err: failure }, 'Slack streaming failed mid-way; finished the message with the rest of the text');
      await this.rememberThread(details);
      return { ids: [ts] };
    } catch (stopError) {
      this.logger().warn({ err: failure, stopFailed: (stopError as Error).message }, 'Slack streaming failed mid-way; posting the rest of the text as a new message');
    }
    if (!rest) {
      await this.rememberThread(details);
      return { ids: [ts] };
    }
    const posted = await this.send(conversation, { text: rest }, key);
    return { ids: [ts, ...posted.ids] };
  }

  /** Show "is thinking…" in the thread while the AI works; clear it after. Assistant threads only show it. */
  async status(conversation: ConversationRef, thinking: boolean): Promise<void> {
    const details = conversation.details as SlackDetails;
    if (!details.threadTs) return;
    await this.client.assistant.threads.setStatus({ channel_id: details.channel, thread_ts: details.threadTs, status: thinking ? 'is thinking…' : '' });
  }

  private async rememberThread(details: SlackDetails): Promise<void> {
    if (details.threadTs) await this.store().set(slackKeys.answeredThread(details.team, details.channel, details.threadTs), '1', MARKER_TTL_MS);
  }

  /**
   * One Web API call. The WebClient's own retries are off (its default policy can wait about
   * half an hour); a 429 is waited out here when short, and otherwise handed to the queue.
   */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        const e = error as { code?: string; retryAfter?: number; data?: { error?: string } };
        if (e.code === ErrorCode.RateLimitedError) {
          const waitMs = (e.retryAfter ?? 1) * 1000;
          if (waitMs > MAX_INLINE_WAIT_MS || attempt >= MAX_INLINE_RETRIES) throw new RetryAfterError('Slack rate limit', waitMs);
          this.logger().info({ waitMs }, 'Slack answered 429; waiting as Retry-After says');
          await new Promise((resolve) => setTimeout(resolve, waitMs));
          continue;
        }
        if (e.code === ErrorCode.PlatformError && e.data?.error && PERMANENT.has(e.data.error)) {
          throw new PermanentError(`Slack refused the message: ${e.data.error}`, `slack_${e.data.error}`);
        }
        throw error;
      }
    }
  }
}

/**
 * The fake Slack's streamed messages (slack-api.ts): what each shows and whether it is still
 * streaming. Like Slack, append/stop on a stopped message is refused (`message_not_in_streaming_state`),
 * and a stop's `markdown_text` over 12,000 characters is `msg_too_long`. Like Slack, conversations.*
 * list them as the bot's messages with their `streaming_state` (`in_progress`, then `completed`),
 * and the blocks and metadata a stop carried.
 */

/** A streamed message as the user sees it: its text so far, and whether Slack still shows it streaming. */
export interface FakeStream {
  text: string;
  streaming: boolean;
}

/** The text a stream call carries: markdown_text, or markdown_text chunks. */
const streamText = (args: Record<string, unknown>) => String(args.markdown_text ?? '') + ((args.chunks as { text?: string }[] | undefined) ?? []).map((chunk) => chunk.text ?? '').join('');

/** chat.startStream / appendStream / stopStream's answer, kept in `streams` (a ts the fake did not start is answered ok). */
export function streamAnswer(method: string, args: Record<string, unknown>, streams: Map<string, FakeStream>, nextTs: () => string): Record<string, unknown> {
  const channel = typeof args.channel === 'string' ? args.channel : undefined;
  if (method === 'chat.startStream') {
    if (!channel) return { ok: false, error: 'channel_not_found' };
    const ts = nextTs();
    streams.set(ts, { text: streamText(args), streaming: true });
    return { ok: true, channel, ts };
  }
  const stream = streams.get(String(args.ts));
  if (stream && !stream.streaming) return { ok: false, error: 'message_not_in_streaming_state' };
  if (method === 'chat.stopStream' && String(args.markdown_text ?? '').length > 12_000) return { ok: false, error: 'msg_too_long' };
  if (stream) stream.text += streamText(args);
  if (stream && method === 'chat.stopStream') stream.streaming = false;
  return { ok: true, channel, ts: args.ts };
}

/** After a stream call the fake took: its message as conversations.* list it (added to `posted` when it starts). */
export function listStreamed(answer: Record<string, unknown>, args: Record<string, unknown>, streams: Map<string, FakeStream>, posted: Record<string, unknown>[], bot: { user: string; botId: string }): void {
  const ts = String(answer.ts);
  const stream = answer.ok === true ? streams.get(ts) : undefined;
  if (!stream) return;
  let listed = posted.find((message) => message.ts === ts);
  if (!listed) posted.push((listed = { type: 'message', user: bot.user, bot_id: bot.botId, ts, channel: answer.channel, ...(args.thread_ts !== undefined ? { thread_ts: args.thread_ts } : {}) }));
  // The stop's blocks (feedback buttons) and metadata stay on the message, as Slack keeps them.
  Object.assign(listed, { text: stream.text, streaming_state: stream.streaming ? 'in_progress' : 'completed' }, args.blocks !== undefined ? { blocks: args.blocks } : {}, args.metadata !== undefined ? { metadata: args.metadata } : {});
}

/**
 * What send.ts keeps in the store about a reply it streams (its key: the job and reply number), so
 * that a retry of the job after a crash neither leaves a message half-streamed nor shows the answer
 * twice: the message it began in (taken back by the retry, take-back.ts), and, once it stopped
 * with the whole answer, that it did (the retry shows nothing again; the core's "sent" marker,
 * written a moment later, may never have been), or, killed while the stop that began its message
 * was out, the message that stop finished, found by the reply's key it carries.
 */
import type { Logger } from 'pino';
import type { Store } from 'parley/adapter-kit';
import { startOutSince } from './lost-start.js';
import { passing } from './take-back.js';

export const streamKeys = {
  /** The ts of the message a reply began to stream in: a retry after a crash finds it. */
  started: (key: string) => `parley:slack:stream:${key}`,
  /** The message that holds the whole reply, stopped (its ts and text): a retry after a crash shows it again no more. */
  finished: (key: string) => `parley:slack:stream-done:${key}`,
};

/** A reply an earlier run streamed whole: its message, and the text it shows (absent when not known: found by its key, or a note of only the ts). */
export interface FinishedStream {
  ts: string;
  text?: string;
}

/** What a retry of a reply an earlier run finished says it showed: that run's text where noted (this run's own, `own`, may differ, or its AI fail: not shown either way), else this run's. */
export function textShown(finished: FinishedStream, own: Promise<string>): Promise<string> {
  const { text } = finished;
  return text === undefined ? own : own.then(() => text, () => text);
}

/** As long as the core's own markers: longer than a job can live in the queue. */
const STREAM_MARKER_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export class StreamNotes {
  constructor(
    private readonly store: () => Store,
    private readonly logger: () => Logger,
  ) {}

  /** Without the note only a crash right now would cost anything (a second copy): the stream goes on. Whether it was kept. */
  async started(key: string, ts: string): Promise<boolean> {
    return this.store().set(streamKeys.started(key), ts, STREAM_MARKER_TTL_MS).then(
      () => true,
      (error: unknown) => (this.logger().warn({ err: error }, 'could not note the streamed message; streaming on'), false),
    );
  }

  /**
   * The stream ended with the whole answer shown (in `ts`): noted before the start's note is dropped,
   * so a retry (the process killed before the core marked the reply sent) shows it no second time
   * and takes nothing back, and says what the user was shown (`text`, when known). A note that
   * cannot be kept costs only that crash a second copy.
   */
  async finished(key: string | undefined, ts: string, text?: string): Promise<void> {
    if (!key) return;
    await this.store().set(streamKeys.finished(key), JSON.stringify({ ts, ...(text !== undefined ? { text } : {}) }), STREAM_MARKER_TTL_MS).catch((error: unknown) => this.logger().warn({ err: error }, 'could not note the finished stream'));
    void this.store().delete(streamKeys.started(key)).catch(() => undefined);
  }

  /** The stream ended with nothing on screen to keep (posted as a message instead): the start's note goes. Not waited for. */
  forget(key: string | undefined): void {
    if (key) void this.store().delete(streamKeys.started(key)).catch(() => undefined);
  }

  /**
   * The message an earlier run of this reply finished it in, if one did. One killed while the stop
   * that began its message (a short answer) was out left no ts, only when that went out: the
   * message that stop finished is looked for by the reply's key it carries (`findKeyed`, since
   * then), and noted as finished. A look Slack fails throws (the job tries later); one it refuses
   * finds nothing.
   */
  async finishedBefore(key: string | undefined, findKeyed: (key: string, since: number) => Promise<string | undefined>): Promise<FinishedStream | undefined> {
    if (!key) return undefined;
    const [finished, started] = await Promise.all([this.store().get(streamKeys.finished(key)), this.store().get(streamKeys.started(key))]);
    const since = finished !== undefined || started === undefined ? undefined : startOutSince(started);
    if (since === undefined) return finished === undefined ? undefined : finishedNote(finished);
    const ts = await findKeyed(key, since).catch((error: unknown) => {
      if (passing(error)) throw error;
      return void this.logger().warn({ err: error }, 'could not look for the message the stop of an earlier run of this reply may have finished');
    });
    if (ts !== undefined) await this.finished(key, ts);
    return ts === undefined ? undefined : { ts };
  }
}

/** A finished note: JSON, or (as first written) only the ts. */
function finishedNote(note: string): FinishedStream {
  if (!note.startsWith('{')) return { ts: note };
  const { ts, text } = JSON.parse(note) as { ts?: unknown; text?: unknown };
  return { ts: typeof ts === 'string' ? ts : '', ...(typeof text === 'string' ? { text } : {}) };
}

/**
 * Taking back the message an earlier run of a reply left half-streamed (send.ts): its process was
 * killed mid-stream, or its AI broke off after some text showed and the job is asked again. The
 * message is stopped and deleted, so the answer streamed now is the only one the user is left with.
 * It is stopped as the run begins and taken back only once the new answer has begun: a run whose AI
 * fails before any text leaves the earlier text where it is, stopped (with the apology, should the
 * message be given up).
 */
import type { Logger } from 'pino';
import { PermanentError, type Store } from 'parley/adapter-kit';
import { startOutSince } from './lost-start.js';
import { refusalOf } from './stream-finish.js';

export interface TakeBack {
  store: Store;
  logger: Logger;
  /** The message a start whose answer was lost began (lost-start.ts), looked for since then; a look Slack fails throws (the job tries later). */
  lostStart(since: number): Promise<string | undefined>;
  /** chat.stopStream, with no text. */
  stop(ts: string): Promise<unknown>;
  /** chat.delete. */
  remove(ts: string): Promise<unknown>;
}

/** Slack down or busy (no refusal): the job tries again later. */
export const passing = (error: unknown) => refusalOf(error) === undefined && !(error instanceof PermanentError);

/**
 * The note at `marker`, read as a run of the reply begins; the message it names is stopped now
 * (best effort): one a killed run left streaming must not stay so should this run show nothing
 * (its AI failing before any text), while its text stays until this run's answer begins.
 */
export async function stopEarlierStream(slack: TakeBack, marker: string): Promise<string | undefined> {
  const noted = await slack.store.get(marker);
  if (noted !== undefined && startOutSince(noted) === undefined) await slack.stop(noted).catch(() => undefined);
  return noted;
}

/**
 * Before a reply that is not a stream (a notice: a spent budget's) is posted in its place: the
 * message an earlier run of it left streaming (killed mid-stream) is stopped as it stands, so the
 * reply follows a finished message. Not taken back: nothing shown now replaces its text. The note
 * stays, for a later run that streams an answer after all to take the message back.
 */
export async function stopEarlierStreamBefore({ slack, marker }: { slack: TakeBack; marker: string }): Promise<void> {
  const noted = await slack.store.get(marker);
  const ts = noted === undefined ? undefined : await notedMessage(slack, noted);
  if (ts !== undefined) await slack.stop(ts).catch(() => undefined); // stopped already, maybe (its AI broke off)
}

/**
 * The message a note names: the ts it holds, or, from a run killed while its start was out, the
 * message that start may have begun, looked for in the thread (a look Slack fails throws: later).
 */
async function notedMessage(slack: TakeBack, noted: string): Promise<string | undefined> {
  const since = startOutSince(noted);
  return since === undefined ? noted : slack.lostStart(since);
}

/** The message `noted` (the note at `marker`) names, or the one its lost start began, stopped and deleted; the note is then dropped. */
export async function takeBackEarlierStream(slack: TakeBack, marker: string, noted: string | undefined): Promise<void> {
  if (noted === undefined) return;
  const ts = await notedMessage(slack, noted);
  if (ts === undefined) return void (await slack.store.delete(marker));
  await slack.stop(ts).catch(() => undefined); // stopped already, maybe
  await slack.remove(ts).catch((error: unknown) => {
    // Slack down or busy: the job tries again later. A refusal (the message gone already, or not
    // the bot's to delete) leaves it, and the answer follows.
    if (passing(error)) throw error;
    if (refusalOf(error) !== 'message_not_found') slack.logger.warn({ err: error, ts }, 'could not take back the message an earlier run began to stream');
  });
  await slack.store.delete(marker);
  slack.logger.warn({ ts }, 'an earlier run of this reply began streaming it and did not finish (killed, or its AI broke off): its message was taken back, and the answer is streamed again');
}

/**
 * The chunks, `first` awaited before the first of them goes on (or at their end, when there is
 * none): what an earlier run showed stays until this run has an answer to show instead. A failure
 * of `first` surfaces from the chunks, before anything of this run reached Slack.
 */
export async function* afterFirstChunk(chunks: AsyncIterable<string>, first: () => Promise<void>): AsyncGenerator<string> {
  let pending = true;
  for await (const chunk of chunks) {
    if (pending) {
      pending = false;
      await first();
    }
    yield chunk;
  }
  if (pending) await first();
}

/** The intake stream's entries as the pumps read them (intake.ts). */
import type { IntakeJob, IntakeOptions } from './intake.js';

/**
 * An entry's job; undefined for one that holds none (deleted, or not written by parley): dropped.
 * A refusal's notice entry (`notice`: the refused job, with the notice's `id`, `limit` and `seconds`)
 * becomes the notice's job, in the refused job's group.
 */
/** The end of the error the pump reports when it drops entries that hold no job (pump-errors.ts tells it apart). */
export const DROPPED_ENTRIES = 'intake entries hold no job; dropped';

export function parseJob<T>(fields: string[] | null, noticeOf: IntakeOptions['noticeOf']): IntakeJob<T> | undefined {
  if (!fields) return undefined;
  const payload = field(fields, 'job') ?? field(fields, 'notice');
  if (payload === undefined) return undefined;
  try {
    const job = JSON.parse(payload) as IntakeJob<T>;
    if (typeof job.id !== 'string' || typeof job.group !== 'string') return undefined;
    if (field(fields, 'job') !== undefined) return job;
    const [id, limit, seconds] = [field(fields, 'id'), field(fields, 'limit'), Number(field(fields, 'seconds'))];
    const data = id && limit && noticeOf?.(job.data, limit, seconds);
    return data ? { id, group: job.group, data: data as T } : undefined;
  } catch {
    return undefined;
  }
}

/** A field's value in an entry's [name, value, …] list (names at even places only). */
function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** The id of a refusal's notice entry that no job was made of (a pump without noticeOf): its marker is cleared all the same. */
export function droppedNotice(fields: string[] | null, jobs: IntakeJob<unknown>[]): string[] {
  const id = fields && field(fields, 'notice') !== undefined ? field(fields, 'id') : undefined;
  return id !== undefined && !jobs.some((job) => job.id === id) ? [id] : [];
}

/** A stream entry as read: its fields are null when it was deleted after it was read (still pending). */
export type Entry = [id: string, fields: string[] | null];

/**
 * XAUTOCLAIM's reply, on every Redis since 6.2: [cursor, entries] there, with a bare null for an
 * entry deleted while pending; [cursor, entries, deleted ids] from 7.0, which leaves those out.
 */
export function claimedEntries(reply: unknown): [next: string, entries: Entry[]] {
  const [next, entries] = reply as [string, (Entry | null)[]];
  return [next, entries.filter((entry): entry is Entry => entry !== null)];
}

/** What a pump says, once, on a Redis older than 6.2 (no XAUTOCLAIM; `parley check` says it too). */
export const NO_AUTOCLAIM =
  'Redis has no XAUTOCLAIM, which parley needs (Redis 6.2 or later): messages are still answered, but those a worker had taken from the intake when it died never are. Upgrade Redis';

/** Whether `error` is Redis not knowing XAUTOCLAIM (before 6.2, or renamed away). */
export const lacksAutoclaim = (error: unknown): boolean => /unknown command\W+XAUTOCLAIM/i.test(String(error));

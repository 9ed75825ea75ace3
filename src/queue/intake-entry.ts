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

/**
 * Room in a list item for a push DynamoDB refused as too large. An item holds at most 400 KB, so a
 * list capped only by its length (a conversation's last HISTORY_TURNS turns, each a pasted document
 * or a long answer) outgrows it, and every later push to it fails: on a worker, each message of that
 * conversation is answered, then retried and dead-lettered for its history, and the history no
 * longer moves on. Redis has no such limit. A list on DynamoDB is capped by its bytes as well: the
 * oldest entries go first, as they do past maxLength; an entry larger than the cap alone is not
 * kept (nor anything older), so the list's newest end is always the newest pushes that fit.
 */
import { readLive, type ItemAccess } from './dynamodb-item.js';
import { MAX_REMOVED_PER_TRIM, removeOldest } from './dynamodb-list.js';

/**
 * The most bytes of entries a list item keeps once it has outgrown 400 KB: under half of it, since
 * the moto emulator checks an update against the item's old value and its new one together. Far
 * beyond what a history's token budget sends (HISTORY_TOKEN_BUDGET: 3,000 tokens, about 12 KB).
 */
export const LIST_MAX_BYTES = 180_000;

/** DynamoDB's refusal of a write that would make an item larger than 400 KB. */
export function isItemTooLarge(error: unknown): boolean {
  const e = error as { name?: string; message?: string } | undefined;
  return e?.name === 'ValidationException' && /item size .*exceeded/i.test(e.message ?? '');
}

/**
 * Remove the oldest entries of the list at `key` so that it and the newest of `values` fit
 * LIST_MAX_BYTES; returns the values that fit (newest kept, in order; empty when none does).
 * A removal racing another writer is left undone: the caller's next push tries again.
 */
export async function makeRoom(access: ItemAccess, key: string, values: string[]): Promise<string[]> {
  let room = LIST_MAX_BYTES;
  let fitting = values.length;
  while (fitting > 0 && room - bytes(values[fitting - 1]!) >= 0) room -= bytes(values[--fitting]!);
  const kept = values.slice(fitting);
  const existing = (await readLive(access, key))?.items ?? [];
  let keep = 0;
  // Older entries stay only behind every new value: one new value left out leaves no room for anything older.
  if (fitting === 0) while (keep < existing.length && room - bytes(existing[existing.length - 1 - keep]!) >= 0) room -= bytes(existing[existing.length - 1 - keep++]!);
  let length = existing.length;
  while (length > keep && (await removeOldest(access, key, '#items', length, length - keep))) length -= Math.min(length - keep, MAX_REMOVED_PER_TRIM);
  return kept;
}

function bytes(text: string): number {
  // An entry of a list attribute costs its UTF-8 bytes plus one byte (DynamoDB's item size rules).
  return Buffer.byteLength(text, 'utf8') + 1;
}

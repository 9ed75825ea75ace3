/**
 * The common case of schema.ts, checked by hand: an `event_callback` carrying a message or a
 * mention, the bulk of what Slack sends and the one event the ack path sees most. zod's check
 * of the same schema costs more than the rest of the Slack adapter's ack path together.
 *
 * `fitsMessageCallback` only ever answers true for a body schema.ts accepts (a property test holds
 * it to that); anything it is not sure of is left to the zod schemas, which also name the misfit.
 */
import { isWellFormed } from 'parley/adapter-kit';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
/** schema.ts's `id`: a well-formed string of 1 to 255 characters. */
const isId = (value: unknown): boolean => typeof value === 'string' && value.length >= 1 && value.length <= 255 && isWellFormed(value);
const absentOr = (value: unknown, check: (value: unknown) => boolean): boolean => value === undefined || check(value);
const nullishOr = (value: unknown, check: (value: unknown) => boolean): boolean => value === undefined || value === null || check(value);
const isString = (value: unknown): boolean => typeof value === 'string';

/** Event types schema.ts checks as messages (messageEvent). */
const MESSAGE_TYPES = new Set(['message', 'app_mention']);

/** Whether `body` is an event_callback with a message or mention event that schema.ts accepts. */
export function fitsMessageCallback(body: Json): boolean {
  if (body.type !== 'event_callback' || !isId(body.event_id) || !nullishOr(body.team_id, isId)) return false;
  if (!absentOr(body.authorizations, isAuthorizations)) return false;
  const event = body.event;
  return isObject(event) && typeof event.type === 'string' && MESSAGE_TYPES.has(event.type) && isMessageEvent(event);
}

function isAuthorizations(value: unknown): boolean {
  return Array.isArray(value) && value.every((entry) => isObject(entry) && nullishOr(entry.team_id, isString) && nullishOr(entry.enterprise_id, isString));
}

/** schema.ts's messageEvent (anyEvent extended). */
function isMessageEvent(event: Json): boolean {
  return (
    absentOr(event.user, isId) &&
    absentOr(event.channel, isId) &&
    absentOr(event.ts, isId) &&
    absentOr(event.thread_ts, isId) &&
    nullishOr(event.text, isString) &&
    nullishOr(event.subtype, isString) &&
    nullishOr(event.bot_id, isString) &&
    nullishOr(event.channel_type, isString) &&
    nullishOr(event.team, isId) &&
    nullishOr(event.files, isFiles) &&
    absentOr(event.item, isObject) &&
    absentOr(event.subteam, isObject)
  );
}

function isFiles(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.every((file) => isObject(file) && absentOr(file.url_private, isString) && absentOr(file.mimetype, isString) && absentOr(file.name, isString))
  );
}

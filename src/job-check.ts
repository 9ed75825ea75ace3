/**
 * The one check of a job's data where a job is taken (every queue's jobs run through processJob):
 * data that is not a parley job (a hand-sent message, a broken replay, another version's shape)
 * can never succeed, so it is dead-lettered at once as `invalid_job` instead of failing with a
 * TypeError on every attempt.
 */
import type { JobData } from './jobs.js';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string';
const isConversation = (value: unknown) => isObject(value) && isText(value.platform) && isText(value.id);

/** What is wrong with a job's data, or undefined when it is a parley job. */
export function invalidJob(data: unknown): string | undefined {
  if (!isObject(data)) return 'the data is not an object';
  if (data.type === 'notice') {
    if (!isConversation(data.conversation)) return 'a notice without conversation.platform and conversation.id';
    if (!isObject(data.reply) || !isText(data.reply.text)) return 'a notice without reply.text';
    // The message a stalled message's apology carries (NoticeJobData.givenUp) is read when it is due.
    return data.givenUp === undefined ? undefined : invalidMessage(data.givenUp, 'givenUp');
  }
  if (data.type !== 'message') return `type is ${JSON.stringify(data.type) ?? 'missing'}, not "message" or "notice"`;
  return invalidMessage(data.message, 'message');
}

function invalidMessage(message: unknown, name: string): string | undefined {
  if (!isObject(message)) return `a ${name === 'message' ? 'message job without message' : `notice whose ${name} is not a message`}`;
  for (const field of ['id', 'platform', 'text'] as const) if (!isText(message[field])) return `${name}.${field} is not a string`;
  if (!isConversation(message.conversation)) return `${name}.conversation lacks platform or id`;
  return undefined;
}

/** A dead letter worth replaying: a whole parley job (an `invalid_job` letter would only fail the same way again; a cut one holds part of it). */
export const isReplayable = (letter: { data: unknown; truncated?: boolean }): boolean => !letter.truncated && invalidJob(letter.data) === undefined;

/** The platform a job is for, read without trusting its shape (metrics and logs of a bad job). */
export function jobPlatform(data: JobData): string {
  const d = data as unknown as { conversation?: { platform?: unknown }; message?: { platform?: unknown } };
  const platform = data?.type === 'notice' ? d.conversation?.platform : d?.message?.platform;
  return typeof platform === 'string' ? platform : 'unknown';
}

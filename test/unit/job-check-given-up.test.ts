/**
 * invalidJob: a stalled message's apology carries the message (NoticeJobData.givenUp), read when it
 * is due; one that is no message (a hand-edited or broken replay) is an invalid_job at once, not a
 * TypeError on every attempt.
 */
import { describe, expect, it } from 'vitest';
import { invalidJob } from '../../src/job-check.js';

const conversation = { platform: 'slack', id: 'C1' };
const message = { id: 'm1', platform: 'slack', text: 'hi', conversation };
const notice = (givenUp?: unknown) => ({ type: 'notice', conversation, reply: { text: 'sorry' }, ...(givenUp === undefined ? {} : { givenUp }) });

describe('invalidJob and a notice’s givenUp', () => {
  it('takes a notice without givenUp, or with a whole message', () => {
    expect(invalidJob(notice())).toBeUndefined();
    expect(invalidJob(notice(message))).toBeUndefined();
  });

  it.each([
    ['not an object', 'text', /givenUp is not a message/],
    ['without text', { ...message, text: 3 }, /givenUp\.text is not a string/],
    ['without a conversation', { ...message, conversation: {} }, /givenUp\.conversation lacks platform or id/],
  ])('refuses a givenUp %s, naming it', (_name, givenUp, problem) => {
    expect(invalidJob(notice(givenUp))).toMatch(problem);
  });

  it('names a message job’s problems as before', () => {
    expect(invalidJob({ type: 'message' })).toBe('a message job without message');
    expect(invalidJob({ type: 'message', message: { ...message, id: 1 } })).toBe('message.id is not a string');
    expect(invalidJob({ type: 'message', message: { ...message, conversation: null } })).toBe('message.conversation lacks platform or id');
  });
});

/**
 * shownTextTakenBack: an AI stream's failure after its text showed, passed on by an adapter that
 * takes that text back before the retry's answer shows (Slack), is retried like one before any
 * text — unless the call ran out of its deadline, which a retry would only run out of again.
 */
import { describe, expect, it } from 'vitest';
import { AiError, nothingShown, shownTextTakenBack } from '../../src/ai/errors.js';
import { asQueueError } from '../../src/failure.js';
import { PermanentError } from '../../src/adapter.js';

describe('shownTextTakenBack', () => {
  it('undoes the finality of a stream cut after its text began (a connection cut, a server error)', () => {
    for (const kind of ['connection', 'server', 'timeout'] as const) {
      const before = new AiError(kind, 'the stream broke');
      const final = before.final();
      expect(asQueueError(final)).toBeInstanceOf(PermanentError);
      expect(shownTextTakenBack(final)).toBe(before);
      expect(asQueueError(shownTextTakenBack(final))).toBe(before); // retried by the queue
    }
  });

  it('leaves final a stream cut by AI_DEADLINE_MS, and whatever else it is given', () => {
    const deadline = new AiError('deadline', 'AI_DEADLINE_MS passed').final();
    expect(shownTextTakenBack(deadline)).toBe(deadline);
    expect(nothingShown(deadline)).not.toBe(deadline); // nothing shown, it may still be asked again
    const client = new AiError('client', 'bad request');
    expect(shownTextTakenBack(client)).toBe(client);
    const other = new Error('not the AI');
    expect(shownTextTakenBack(other)).toBe(other);
  });
});

/** What parley sends SQS as a message body: characters SQS refuses (U+FFFE, U+FFFF) never appear raw. */
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope, sqsBody } from '../../aws/sqs-ids.js';

/** The characters SQS accepts in a body (its SendMessage reference). */
const SQS_ALLOWED = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

describe('SQS message bodies', () => {
  it('escapes U+FFFE and U+FFFF, and the job reads back the same', () => {
    const text = 'odd \uFFFE and \uFFFF, a tab\t, a bell\u0007, a lone \uD800 and 😀';
    const body = encodeEnvelope({ id: 'web.1', group: 'web.c', data: { text } }, 'web.1');
    expect(body).toMatch(SQS_ALLOWED);
    expect(decodeEnvelope<{ text: string }>(body)?.data.text).toBe(text);
  });

  it('leaves other text as JSON.stringify writes it', () => {
    const letter = { id: 'x', error: 'Error: é ✓', data: { text: 'plain' } };
    expect(sqsBody(letter)).toBe(JSON.stringify(letter));
  });
});

/**
 * Every text the AI is sent is well-formed (a lone UTF-16 surrogate goes as U+FFFD): strict
 * OpenAI-compatible servers refuse the request as invalid JSON on every try. The system prompt
 * too: given in code (createBot's config), it may hold half an emoji.
 */
import { describe, expect, it } from 'vitest';
import { buildMessages } from '../../src/ai/messages.js';

const texts = (messages: ReturnType<typeof buildMessages>) =>
  messages.flatMap((m) => (typeof m.content === 'string' ? [m.content] : (m.content ?? []).flatMap((p) => ('text' in p ? [p.text] : []))));

describe('buildMessages: well-formed text only', () => {
  it.each([
    ['text only', undefined],
    ['with an image', ['https://example.com/a.png']],
  ])('system prompt, history and message (%s)', (_name, imageUrls) => {
    const messages = buildMessages('Be kind \ud83d', {
      conversationId: 'c',
      history: [{ role: 'user', text: 'earlier \ude00', at: '2026-01-01T00:00:00Z' }, { role: 'assistant', text: 'reply \ud83d', at: '2026-01-01T00:00:01Z' }],
      text: 'now \udc00 then',
      ...(imageUrls ? { imageUrls } : {}),
    });
    expect(texts(messages)).toEqual(['Be kind \ufffd', 'earlier \ufffd', 'reply \ufffd', 'now \ufffd then']);
    expect(JSON.stringify(messages).isWellFormed()).toBe(true);
    expect(JSON.stringify(messages)).not.toMatch(/\\ud[89a-f]/i);
  });
});

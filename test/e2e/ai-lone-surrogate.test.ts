/**
 * A message holding half an emoji (a lone UTF-16 surrogate, which JSON can carry as `\ud83d`) is
 * answered: the AI is sent U+FFFD in its place. Strict OpenAI-compatible servers (serde_json and
 * the like) refuse a lone surrogate as invalid JSON with a 400, on every try, so the visitor got
 * only an apology telling them to try again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, lastUserText, type FakeOpenAi } from '../fakes/openai-server.js';
import { assistantReplies, startWebBot, type WebBot } from '../helpers/web-bot.js';

describe('a message with a lone surrogate reaches a strict AI server', () => {
  let ai: FakeOpenAi;
  let web: WebBot;
  beforeAll(async () => {
    ai = await startFakeOpenAi((call) =>
      call.body.messages.every((m) => typeof m.content !== 'string' || m.content.isWellFormed())
        ? { text: `echo: ${lastUserText(call)}` }
        : { status: 400, body: { error: { message: 'Failed to parse the request body as JSON: lone leading surrogate in hex escape', type: 'invalid_request_error' } } },
    );
    web = await startWebBot({ OPENAI_BASE_URL: ai.url });
  });
  afterAll(async () => {
    await web.close();
    await ai.close();
  });

  it('is answered, the half emoji sent as U+FFFD, and a follow-up carries it well-formed in its history', async () => {
    expect((await web.post('half-emoji', 'hello \ud83d there')).status).toBe(202);
    const first = await web.waitFor('half-emoji', (entries) => assistantReplies(entries).length === 1);
    expect(assistantReplies(first)[0]).toMatchObject({ kind: 'answer', text: 'echo: hello \ufffd there' });

    expect((await web.post('half-emoji', 'and then?')).status).toBe(202);
    const second = await web.waitFor('half-emoji', (entries) => assistantReplies(entries).length === 2);
    expect(assistantReplies(second)[1]).toMatchObject({ kind: 'answer', text: 'echo: and then?' });
    expect(ai.calls.at(-1)!.body.messages.map((m) => m.content)).toContain('hello \ufffd there');
  });
});

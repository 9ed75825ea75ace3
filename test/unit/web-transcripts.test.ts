/** The visitor's list of conversations (GET /web/conversations) over the in-memory store. */
import { describe, expect, it } from 'vitest';
import { Transcripts } from '../../adapters/web/transcript.js';
import { MemoryStore } from '../../src/store/index.js';

describe('a visitor’s conversations', () => {
  it('a long run of posts to one conversation does not push the others out of the list', async () => {
    const transcripts = new Transcripts(new MemoryStore(), 60_000, 100);
    const at = new Date().toISOString();
    for (const conversation of ['conv-b', 'conv-a']) {
      await transcripts.append(conversation, { role: 'user', text: 'hi', at });
      await transcripts.own(conversation, 'visitor-1');
    }
    // More posts to A than the list holds entries.
    for (let i = 0; i < 250; i++) await transcripts.own('conv-a', 'visitor-1');
    const listed = (await transcripts.ofVisitor('visitor-1')).map((c) => c.id).sort();
    expect(listed).toEqual(['conv-a', 'conv-b']);
  });
});

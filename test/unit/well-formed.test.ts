import { describe, expect, it } from 'vitest';
import { wellFormed, wellFormedChunks } from '../../src/text/index.js';

async function* from(chunks: string[]): AsyncGenerator<string> {
  for (const chunk of chunks) yield chunk;
}

async function collect(chunks: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

describe('wellFormed', () => {
  it('replaces lone surrogates with U+FFFD and keeps pairs', () => {
    expect(wellFormed('a\uD83D b\uDE00 c\u{1F600}')).toBe('a\uFFFD b\uFFFD c\u{1F600}');
  });
});

describe('wellFormedChunks', () => {
  it('joins an emoji cut between two chunks, so no chunk holds half of it', async () => {
    const out = await collect(wellFormedChunks(from(['abc\uD83D', '\uDE00def'])));
    expect(out).toEqual(['abc', '\u{1F600}def']);
  });

  it('waits through a chunk that is only the high half', async () => {
    expect(await collect(wellFormedChunks(from(['a', '\uD83D', '\uDE00'])))).toEqual(['a', '\u{1F600}']);
  });

  it('ends a stream cut after a high half with U+FFFD, and mends lone halves inside chunks', async () => {
    expect(await collect(wellFormedChunks(from(['x\uDE00y', 'z\uD83D'])))).toEqual(['x\uFFFDy', 'z', '\uFFFD']);
  });

  it('passes well-formed chunks through unchanged', async () => {
    const chunks = ['hello ', 'wörld ', '\u{1F600}!'];
    expect(await collect(wellFormedChunks(from(chunks)))).toEqual(chunks);
  });
});

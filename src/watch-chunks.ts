import { AiError } from './ai/index.js';

/**
 * The chunks as they come, telling when the first one arrives and when their source (the AI)
 * fails. A stream that ends with no text fails as an empty AI answer does: nothing to post.
 */
export async function* watchChunks(chunks: AsyncIterable<string>, on: { first(): void; failed(): void }): AsyncGenerator<string> {
  let seen = false;
  let text = false;
  try {
    for await (const chunk of chunks) {
      if (!seen) on.first();
      seen = true;
      text ||= chunk.trim() !== '';
      yield chunk;
    }
    if (!text) throw new AiError('empty', 'the reply stream ended with no text');
  } catch (error) {
    on.failed();
    throw error;
  }
}

import { AiError } from './errors.js';

/**
 * An answer with no text is a failed call, not a reply: there is nothing to show the user. A
 * reasoning model that spends OPENAI_MAX_OUTPUT_TOKENS on reasoning ends so (content "",
 * finish_reason "length"). Returns the error to throw, retried like a bad response (kind `empty`);
 * one the provider's output filter withheld (finish_reason "content_filter") is final (kind
 * `content_filtered`): the same request is filtered again, each try billed.
 */
export function emptyAnswer(text: string, finishReason: string | null | undefined): AiError | undefined {
  if (text.trim() !== '') return undefined;
  if (finishReason === 'content_filter') return new AiError('content_filtered', "AI provider's content filter withheld the answer (finish_reason content_filter): no text to show");
  const why = finishReason === 'length' ? ': the output limit was spent before any text (on reasoning?); raise OPENAI_MAX_OUTPUT_TOKENS' : '';
  return new AiError('empty', `AI answered with no text (finish_reason ${finishReason ?? 'none'})${why}`);
}

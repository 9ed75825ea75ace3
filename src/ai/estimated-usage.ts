/**
 * Tokens a call was billed for when the provider's usage never came: a stream cut short (its reader
 * stopped, the AI failed after some text, or parley cut it at the reply cap before the usage chunk
 * that ends it). An estimate (see estimateTokens) of the prompt sent and the text shown.
 */
import { estimateTokens } from './history.js';
import type { AiRequest } from './types.js';

/** The prompt's tokens: the system prompt, the history window sent and the new message. */
export function estimatedPromptTokens(systemPrompt: string, request: Pick<AiRequest, 'history' | 'text'>): number {
  return estimateTokens([systemPrompt, ...request.history.map((turn) => turn.text), request.text].join('\n'));
}

/** A call's estimated usage, in the provider's field names (as a usage chunk would have said). */
export function estimatedUsage(systemPrompt: string, request: Pick<AiRequest, 'history' | 'text'>, shownText: string): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const [prompt, completion] = [estimatedPromptTokens(systemPrompt, request), estimateTokens(shownText)];
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/**
 * Tokens a call was billed for when the provider's usage never came: a stream cut short (its reader
 * stopped, the AI failed after some text, or parley cut it at the reply cap before the usage chunk
 * that ends it). An estimate (see estimateTokens) of the prompt sent and the text shown.
 */
import type { Logger } from 'pino';
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

/**
 * Whether a provider reported usage at all: no `usage` (a server that ignores `stream_options`, a
 * proxy that drops it) or one with neither count. Counted as 0, such answers would never spend a budget.
 */
export function usageMissing(usage: { prompt_tokens?: unknown; completion_tokens?: unknown } | null | undefined): boolean {
  return usage == null || (usage.prompt_tokens == null && usage.completion_tokens == null);
}

type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

/**
 * A call's usage as reported, or, when the provider reported none, its estimate: the call was
 * billed all the same, and a budget must not read it as free. Warned about once per client.
 */
export function usageOrEstimate(systemPrompt: string, logger: Logger | undefined) {
  let warned = false;
  return <U extends Partial<Usage>>(usage: U | null | undefined, request: Pick<AiRequest, 'history' | 'text'>, shownText: string): U | Usage => {
    if (!usageMissing(usage)) return usage as U;
    if (!warned) logger?.warn('AI provider reported no token usage: tokens estimated from the text instead (about 4 characters a token)');
    warned = true;
    return estimatedUsage(systemPrompt, request, shownText);
  };
}

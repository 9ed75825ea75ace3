import { splitApiKeys } from './keys.js';
import { NoProviderAiClient } from './no-provider.js';
import { OpenAiClient } from './openai-client.js';
import { defaultPrices } from './prices.js';
import type { AiClient, AiOptions } from './types.js';
import { ConfigError } from '../errors.js';

/** Defaults for every tuning knob; config may override any of them. */
export const defaultAiOptions = {
  systemPrompt: 'You are a helpful assistant.',
  maxOutputTokens: 1024,
  attempts: 4,
  initialBackoffMs: 500,
  maxBackoffMs: 20_000,
  attemptTimeoutMs: 30_000,
  deadlineMs: 90_000,
  breakerThreshold: 5,
  breakerHalfOpenAfterMs: 30_000,
  maxConcurrent: 8,
  maxInlineWaitMs: 30_000,
  cacheTtlSeconds: 0,
  prices: defaultPrices,
} satisfies Omit<AiOptions, 'model'>;

/** AiOptions where only the model is required; the rest falls back to defaultAiOptions. */
export type AiClientOptions = Partial<AiOptions> & Pick<AiOptions, 'model'>;

/** An OpenAI-backed client, or a NoProviderAiClient when neither apiKey nor baseURL is set. */
export function createAiClient(options: AiClientOptions): AiClient {
  const resolved: AiOptions = { ...defaultAiOptions, ...withoutUndefined(options), model: options.model };
  validate(resolved);
  if (splitApiKeys(resolved.apiKey).length === 0 && !resolved.baseURL) {
    resolved.logger?.warn('No AI provider configured (set OPENAI_API_KEY or OPENAI_BASE_URL); replies will be a notice');
    return new NoProviderAiClient();
  }
  return new OpenAiClient(resolved);
}

// `{ attempts: undefined }` from a half-filled config must not erase a default.
function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validate(options: AiOptions): void {
  const positive = ['attempts', 'attemptTimeoutMs', 'deadlineMs', 'breakerThreshold', 'maxConcurrent', 'maxOutputTokens'] as const;
  for (const name of positive) {
    if (!Number.isFinite(options[name]) || options[name] < 1) {
      throw new ConfigError(`AI option ${name} must be a number ≥ 1 (got ${String(options[name])})`);
    }
  }
  const nonNegative = ['initialBackoffMs', 'maxBackoffMs', 'breakerHalfOpenAfterMs', 'maxInlineWaitMs', 'cacheTtlSeconds'] as const;
  for (const name of nonNegative) {
    if (!Number.isFinite(options[name]) || options[name] < 0) {
      throw new ConfigError(`AI option ${name} must be a number ≥ 0 (got ${String(options[name])})`);
    }
  }
  if (options.model.trim() === '') throw new ConfigError('AI option model must not be empty (e.g. "gpt-4o-mini")');
}

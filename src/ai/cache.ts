import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Turn } from '../message.js';
import type { AiRequest, AiResult, ResponseCache } from './types.js';

export interface CacheKeyParts {
  model: string;
  systemPrompt: string;
  maxOutputTokens: number;
  history: readonly Turn[];
  text: string;
  imageUrls?: readonly string[];
}

/**
 * A question as the cache compares it: case, runs of whitespace and trailing punctuation do not
 * change what is asked ("What is SSO?" = "what is  sso"), so they must not split the cache.
 * Nothing else is folded: line breaks and a line's indentation stay (pasted code or YAML means
 * something else without them), and so do characters that only look alike ("10²" is not "102":
 * NFC, not NFKC).
 */
export function normaliseQuestion(text: string): string {
  const folded = text
    .normalize('NFC')
    .toLowerCase()
    .split(/\r?\n/)
    .map(withinLine)
    .join('\n')
    .trim();
  const question = withoutTrailingPunctuation(folded);
  // Punctuation alone ("?", "!!") is not a question to share: keep it as it was written.
  return question || text.trim();
}

const TRAILING = /[\s.?!,;:…。？！，；：]/u;

/**
 * The text without its trailing punctuation and spaces, read from the end (a `[…]+$` regex retries
 * from every position of a long run of them, quadratic on a message of many blank lines).
 */
function withoutTrailingPunctuation(text: string): string {
  let end = text.length;
  while (end > 0 && TRAILING.test(text[end - 1]!)) end--;
  return text.slice(0, end);
}

/** A line with its runs of whitespace after the indentation made one space, and none at its end. */
function withinLine(line: string): string {
  const indent = /^[ \t]*/.exec(line)?.[0] ?? '';
  if (indent.length === line.length) return ''; // a blank line, whatever spaces it holds
  return indent + line.slice(indent.length).replace(/\s+/g, ' ').trimEnd();
}

/** sha256 over everything that shapes the answer: model, prompt, output limit, the history window sent, message, images. */
export function cacheKey(parts: CacheKeyParts): string {
  // Turn times are not sent to the model, so they must not split the cache.
  const material = JSON.stringify([
    'parley-ai-v2',
    parts.model,
    parts.systemPrompt,
    parts.maxOutputTokens,
    parts.history.map((turn) => [turn.role, turn.text]),
    normaliseQuestion(parts.text),
    parts.imageUrls ?? [],
  ]);
  return createHash('sha256').update(material).digest('hex');
}

/** The cache key of `request` to a client of these options. */
export function requestKey({ model, systemPrompt, maxOutputTokens }: Pick<CacheKeyParts, 'model' | 'systemPrompt' | 'maxOutputTokens'>, { history, text, imageUrls }: AiRequest): string {
  return cacheKey({ model, systemPrompt, maxOutputTokens, history, text, ...(imageUrls ? { imageUrls } : {}) });
}

/** In-process LRU response cache: the default when no shared (Redis) cache is given. */
export class MemoryResponseCache implements ResponseCache {
  private readonly lru: LRUCache<string, AiResult>;

  constructor(maxEntries = 1000) {
    this.lru = new LRUCache<string, AiResult>({ max: maxEntries });
  }

  async get(key: string): Promise<AiResult | undefined> {
    return this.lru.get(key);
  }

  async set(key: string, value: AiResult, ttlMs: number): Promise<void> {
    this.lru.set(key, value, { ttl: ttlMs });
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) this.lru.delete(key);
  }
}

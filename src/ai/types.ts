/**
 * The AI client's public vocabulary. Plain data, so results can be cached (Redis) and queued.
 */
import type { Logger } from 'pino';
import type { Turn } from '../message.js';
import type { AdaptiveLimit } from './adaptive-limit.js';

export interface AiRequest {
  /** Conversation key, for logs. */
  conversationId: string;
  /** Earlier turns, oldest first (already trimmed by the caller). */
  history: Turn[];
  /** The new user message. */
  text: string;
  /** Optional images, sent as image_url parts (the model must support vision). */
  imageUrls?: string[];
  /** Who pays (a Slack workspace...): spend and budgets are counted per tenant. Not part of the cache key. */
  tenant?: string;
}

/** Tokens billed for one reply. Zero when the reply came from the cache or a shared call. */
export interface AiUsage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface AiResult {
  text: string;
  /** The model that answered, as the server reports it (e.g. a dated snapshot). */
  model: string;
  usage: AiUsage;
  /** True when no AI call was made for this reply: served from the cache or from an identical call in flight. */
  cached: boolean;
  /** Set when parley answered instead of the model (a spent budget's notice): not remembered as the model's turn. */
  notice?: boolean;
  /** The response cache key this answer is kept under (or was read from): its conversation's erase deletes it (`forgetCached`). */
  cacheKey?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface AiStream {
  /** Text deltas in order. Breaking out of the loop cancels the call. */
  chunks: AsyncIterable<string>;
  /** The whole reply, once the stream is done. */
  result: Promise<AiResult>;
  /** True when the text is parley's own notice (a spent budget), not the model's: known before any text. Absent: never one. */
  notice?: Promise<boolean>;
  /** The model the call went to so far (the fallback's once it answers): a stream cut short is estimated at its price. */
  model?(): string | undefined;
}

export type CircuitStateName = 'closed' | 'open' | 'half-open' | 'isolated';

export interface AiClient {
  /** Answer one message; retried, cached and protected by the circuit breaker. */
  reply(request: AiRequest, options?: CallOptions): Promise<AiResult>;
  /** Streams text deltas; the final AiResult resolves when done. A client may answer from its cache (parley's does); limitAiCalls still counts each stream. */
  stream?(request: AiRequest, options?: CallOptions): AiStream;
  /** Circuit breaker state, for readiness and metrics. */
  readonly circuit: CircuitStateName;
  /** Whether the cache already holds this request's answer (no AI call would be made): the calls-per-minute limit asks. */
  hasCached?(request: AiRequest): Promise<boolean>;
  /**
   * The answer the cache holds for this request, given again at $0 (`cached: true`), without any AI
   * call; undefined on a miss. Past a spent budget a cached answer is still served: it costs nothing.
   */
  fromCache?(request: AiRequest): Promise<AiResult | undefined>;
  /** Delete these answers (their AiResult.cacheKey) from the response cache: a conversation's erase. Wrappers pass it on. */
  forgetCached?(keys: string[]): Promise<void>;
  /** Answers only with parley's own notice (no provider configured): a stream of it is a notice before it starts. Wrappers pass it on. */
  readonly noticeOnly?: boolean;
}

/**
 * USD per 1M tokens, by model name (a dated snapshot matches its base name). `cachedInput`: the
 * price of the prompt tokens the provider read from its prompt cache (default: `input`).
 */
export type PriceTable = Record<string, { input: number; output: number; cachedInput?: number }>;

export interface AiEvents {
  /** Each HTTP attempt. */
  onCall?(e: { model: string; durationMs: number; ok: boolean; errorKind?: string }): void;
  onCache?(hit: boolean): void;
  /** Each call the provider billed, answered or not (an empty answer is billed too): the cost metric and the budgets both count these. */
  onUsage?(e: { model: string; usage: AiUsage; tenant?: string }): void;
  /** The provider refused a key (401); the call goes on at once with the next, if there is one. */
  onKeyRejected?(e: KeyRejection): void;
}

/** A key refused by the provider, by its place in the list (0-based); never the key itself. */
export interface KeyRejection {
  keyIndex: number;
  /** How many keys the list holds. */
  keys: number;
  /** The key calls use from now on; absent when the refused key was the last. */
  nextIndex?: number;
}

/** Where replies are cached: memory by default, Redis when shared between processes. */
export interface ResponseCache {
  get(key: string): Promise<AiResult | undefined>;
  set(key: string, value: AiResult, ttlMs: number): Promise<void>;
  /**
   * Single-flight across processes (optional): claim the right to call the AI for `key`; false
   * when another process holds it, and then its answer will appear in the cache.
   */
  claim?(key: string, ttlMs: number): Promise<boolean>;
  /** Whether some process still holds the claim on `key`. */
  claimed?(key: string): Promise<boolean>;
  /** Keep this process's claim on `key` for `ttlMs` more (its call is still running); false when it is no longer ours. */
  extend?(key: string, ttlMs: number): Promise<boolean>;
  /** Give up this process's claim (never another's, taken after ours expired). */
  release?(key: string): Promise<void>;
  /** Delete these answers (a conversation's erase). Optional: a cache without it keeps them until their TTL. */
  delete?(keys: string[]): Promise<void>;
}

export interface AiOptions {
  /**
   * One key, or several comma-separated: calls use the first, and a key the provider refuses (401)
   * gives way to the next for good (see keys.ts). Never logged.
   */
  apiKey?: string;
  /** Any OpenAI-compatible server (Ollama, vLLM, LM Studio, a proxy...). */
  baseURL?: string;
  model: string;
  systemPrompt: string;
  maxOutputTokens: number;
  /** Total tries per reply, including the first. */
  attempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Per attempt; for streams, the longest silence between chunks. */
  attemptTimeoutMs: number;
  /** Overall, including retries and waiting for a concurrency slot. */
  deadlineMs: number;
  /** Consecutive failed attempts that open the circuit. */
  breakerThreshold: number;
  breakerHalfOpenAfterMs: number;
  /** The most AI calls at once; the adaptive limit cuts it on 429s and grows back to it. */
  maxConcurrent: number;
  /** Shares the adaptive concurrency limit between processes (Redis); default: this process only. */
  concurrency?: AdaptiveLimit;
  /**
   * How long a call waits inline for a slot or a Retry-After before it ends with a "wait" error
   * (kind rate_limited / overloaded, with retryAfterMs) for the queue to hold the message.
   */
  maxInlineWaitMs: number;
  /**
   * Asked once for each call that goes to the provider, with a concurrency slot held: never for an
   * answer from the cache or from an identical call in flight. The calls-per-minute limit: it
   * refuses by throwing (an AiError "wait", rate_limited with retryAfterMs).
   */
  admitCall?: () => Promise<void>;
  /** Set when a fallback client stands by: a primary throttled this long gives way to it. */
  fallbackAfterMs?: number;
  /** 0 disables the cache. */
  cacheTtlSeconds: number;
  cache?: ResponseCache;
  prices: PriceTable;
  events?: AiEvents;
  logger?: Logger;
}

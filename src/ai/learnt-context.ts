/**
 * The context lengths this process learnt from models' refusals. A conversation that outgrew a
 * small model's context cost every later message a refused call before the shorter-history retry
 * (shorter-history.ts); once a refusal names the model's context length, each request's history is
 * cut beforehand to what fits it (by the estimate of history.ts, with a margin), so the next
 * messages make one call. The margin narrows when a request cut so is still refused (the estimate
 * undercounts that model's tokens).
 */
import type { Logger } from 'pino';
import { outputLimitTooLarge, statedContextLength } from './context-length.js';
import { AiError, isInputTooLong } from './errors.js';
import { estimateTokens, newestWithin } from './history.js';
import type { AiRequest } from './types.js';

export interface ContextFitOptions {
  systemPrompt: string;
  /** OPENAI_MAX_OUTPUT_TOKENS: counted against the context by OpenAI, vLLM and TGI. */
  maxOutputTokens: number;
  /** HISTORY_TOKEN_BUDGET, to say what to set it to. */
  historyTokenBudget?: number;
  logger?: Logger;
}

/** Models remembered; past it the one learnt longest ago is forgotten (a server may name many). */
const MODELS_KEPT = 64;
/** The share of the context a request is cut to at first, and the least it narrows to. */
const FIRST_SHARE = 0.85;
const LEAST_SHARE = 0.3;
const NARROWED = 0.8;
/** Tokens of a typical message, for the HISTORY_TOKEN_BUDGET suggested. */
const TYPICAL_MESSAGE_TOKENS = 100;
/** A refused output limit is logged again after this long (it refuses every message until fixed). */
const CONFIG_ERROR_EVERY_MS = 10 * 60_000;

interface Learnt {
  tokens: number;
  share: number;
}

export class LearntContexts {
  private readonly learnt = new Map<string, Learnt>();
  private readonly configErrorSaid = new Map<string, number>();

  constructor(private readonly options: ContextFitOptions) {}

  /** The context length learnt for `model`, if any. */
  contextOf(model: string): number | undefined {
    return this.learnt.get(model)?.tokens;
  }

  /** `request` with its history cut to what fits `model`'s learnt context (as it is when none was learnt), and whether it was cut so. */
  fit(model: string, request: AiRequest): { request: AiRequest; fitted: boolean } {
    const learnt = this.learnt.get(model);
    if (!learnt) return { request, fitted: false };
    const history = newestWithin(request.history, this.historyBudget(learnt, estimateTokens(request.text)));
    return { request: history.length === request.history.length ? request : { ...request, history }, fitted: true };
  }

  /**
   * `model` refused `request`: learn the context length its refusal names, narrow the margin when a
   * request cut to fit was refused all the same, say an output limit the model cannot give.
   */
  refused(model: string, error: unknown, request: AiRequest, fitted: boolean): void {
    if (!(error instanceof AiError)) return;
    if (error.kind === 'client' && outputLimitTooLarge(error.message)) return this.sayOutputLimit(model, error);
    if (!isInputTooLong(error)) return;
    const stated = statedContextLength(error.message, (error.cause as { error?: unknown } | undefined)?.error);
    const known = this.learnt.get(model);
    if (stated !== undefined && stated !== known?.tokens) return this.learn(model, stated);
    // A message too long by itself says nothing of the estimate; a history cut to fit and refused does.
    if (known && fitted && request.history.length > 0) known.share = Math.max(LEAST_SHARE, known.share * NARROWED);
  }

  private learn(model: string, tokens: number): void {
    this.learnt.delete(model);
    if (this.learnt.size >= MODELS_KEPT) this.learnt.delete(this.learnt.keys().next().value!);
    const learnt = { tokens, share: FIRST_SHARE };
    this.learnt.set(model, learnt);
    const { historyTokenBudget } = this.options;
    const suggested = Math.max(0, this.historyBudget(learnt, TYPICAL_MESSAGE_TOKENS));
    const advice = historyTokenBudget !== undefined && historyTokenBudget > suggested ? `; set HISTORY_TOKEN_BUDGET to about ${suggested} (it is ${historyTokenBudget}) to send no more than fits` : '';
    this.options.logger?.info({ model, contextTokens: tokens, suggestedHistoryTokenBudget: suggested }, `the model ${model} reads at most ${tokens} tokens (it said so refusing a conversation as too long): histories sent to it are cut to fit from now on${advice}`);
  }

  /** History tokens that fit beside the system prompt, a message of `messageTokens` and the output limit. */
  private historyBudget(learnt: Learnt, messageTokens: number): number {
    const { maxOutputTokens, systemPrompt } = this.options;
    // An output limit at or past the context leaves nothing: reckon half (llama.cpp does not count it).
    const output = maxOutputTokens < learnt.tokens ? maxOutputTokens : Math.floor(learnt.tokens / 2);
    return Math.floor(learnt.tokens * learnt.share) - output - estimateTokens(systemPrompt) - messageTokens;
  }

  private sayOutputLimit(model: string, error: AiError): void {
    const now = Date.now();
    const said = this.configErrorSaid.get(model);
    if (said !== undefined && now - said < CONFIG_ERROR_EVERY_MS) return;
    this.configErrorSaid.delete(model);
    if (this.configErrorSaid.size >= MODELS_KEPT) this.configErrorSaid.delete(this.configErrorSaid.keys().next().value!);
    this.configErrorSaid.set(model, now);
    const contextTokens = statedContextLength(error.message);
    this.options.logger?.error(
      { model, maxOutputTokens: this.options.maxOutputTokens, ...(contextTokens ? { contextTokens } : {}), err: error },
      `the model ${model} refuses OPENAI_MAX_OUTPUT_TOKENS=${this.options.maxOutputTokens} (more than it gives${contextTokens ? `: it reads ${contextTokens} tokens in all` : ''}): every message fails until it is lowered`,
    );
  }
}

/**
 * What a "too long" refusal says of the model's context, as each server words it, and what the
 * process does with it: cut the next histories to fit, narrow the margin when a cut one is refused
 * all the same (not for a message too long by itself), tell an output limit the model cannot give.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { AiError, isInputTooLong, type AiRequest } from '../../src/ai/index.js';
import { outputLimitTooLarge, statedContextLength } from '../../src/ai/context-length.js';
import { LearntContexts } from '../../src/ai/learnt-context.js';
import type { Turn } from '../../src/message.js';

const refusal = (message: string, body?: object) => new AiError('client', `AI provider answered 400 ${message}`, { status: 400, cause: { error: body } });

describe('the context length a refusal states', () => {
  const wordings: Array<[string, string, number | undefined, object?]> = [
    ['OpenAI', "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.", 8192],
    ['vLLM (before 0.6)', "This model's maximum context length is 4096 tokens. However, you requested 5120 tokens (4096 in the messages, 1024 in the completion).", 4096],
    ['vLLM, input and output limit past the context', "'max_tokens' or 'max_completion_tokens' is too large: 1024. This model's maximum context length is 4096 tokens and your request has 3500 input tokens (1024 > 4096 - 3500).", 4096],
    ['llama.cpp', 'request (4476 tokens) exceeds the available context size (4096 tokens), try increasing it', 4096],
    ['llama.cpp, the length in its body only', 'the request exceeds the available context size, try increasing it', 2048, { type: 'exceed_context_size_error', n_prompt_tokens: 3000, n_ctx: 2048 }],
    ['Ollama, saying a length', 'the input length (5000 tokens) exceeds the context length (4,096 tokens)', 4096],
    ['Mistral', 'Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum context length', 32768],
    ['Gemini', 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).', 1048576],
    ['Anthropic', 'prompt is too long: 210000 tokens > 200000 maximum', 200000],
    ['TGI', 'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 1024 `max_new_tokens`', 4096],
    ['Ollama, naming none', 'the input length exceeds the context length', undefined],
  ];
  it.each(wordings)('%s', (_who, message, tokens, body) => {
    expect(statedContextLength(message, body)).toBe(tokens);
    // Each still reads as input too long: a shorter request passes.
    expect(isInputTooLong(refusal(message, body))).toBe(true);
    expect(outputLimitTooLarge(message)).toBe(false);
  });
});

describe('an output limit the model cannot give (OPENAI_MAX_OUTPUT_TOKENS at or past its context)', () => {
  it.each([
    ['vLLM', "'max_tokens' or 'max_completion_tokens' is too large: 4096. This model's maximum context length is 4096 tokens and your request has 12 input tokens (4096 > 4096 - 12)."],
    ['vLLM (before 0.6)', "This model's maximum context length is 4096 tokens. However, you requested 4108 tokens (12 in the messages, 4096 in the completion)."],
    ['TGI', 'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 2048. Given: 12 `inputs` tokens and 4096 `max_new_tokens`'],
    ['OpenAI', 'max_tokens is too large: 100000. This model supports at most 16384 completion tokens, whereas you provided 100000.'],
  ])('%s: not input too long (no shorter history passes)', (_who, message) => {
    expect(outputLimitTooLarge(message)).toBe(true);
    expect(isInputTooLong(refusal(message))).toBe(false);
  });
});

const turns = (n: number, chars = 200): Turn[] => Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', text: `${i} ${'x'.repeat(chars)}`, at: new Date(i).toISOString() }));
const request = (history: Turn[], text = 'the question'): AiRequest => ({ conversationId: 'c1', history, text });
const tooLong = refusal("This model's maximum context length is 1000 tokens. However, your messages resulted in 1500 tokens.");

function contexts() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { contexts: new LearntContexts({ systemPrompt: 'Be brief.', maxOutputTokens: 200, historyTokenBudget: 3000, logger }), lines };
}

describe('LearntContexts', () => {
  it('leaves requests as they are until a refusal names the context; then cuts histories to fit, per model', () => {
    const { contexts: c, lines } = contexts();
    const long = request(turns(20));
    expect(c.fit('small', long)).toEqual({ request: long, fitted: false });
    c.refused('small', tooLong, long, false);
    const { request: cut, fitted } = c.fit('small', long);
    expect(fitted).toBe(true);
    // 85% of 1000, less 200 of output, the system prompt and the question: ten turns of 55 tokens would not fit.
    expect(cut.history.length).toBeGreaterThan(0);
    expect(cut.history.length).toBeLessThan(12);
    expect(cut.history[0]!.role).toBe('user');
    expect(cut.history).toEqual(long.history.slice(-cut.history.length));
    expect(c.fit('another', long).request).toBe(long);
    // Learnt again from the next refusal naming the same length: said once.
    c.refused('small', tooLong, long, true);
    expect(lines.filter((line) => /reads at most 1000 tokens/.test(line.msg))).toHaveLength(1);
  });

  it('narrows the margin when a history cut to fit is refused all the same, not when the message alone was', () => {
    const { contexts: c } = contexts();
    const long = request(turns(20));
    c.refused('small', tooLong, long, false);
    const first = c.fit('small', long).request.history.length;
    // A message too long by itself, sent with no history: the estimate was not wrong.
    c.refused('small', tooLong, request([], 'x'.repeat(8000)), true);
    expect(c.fit('small', long).request.history.length).toBe(first);
    c.refused('small', tooLong, c.fit('small', long).request, true);
    expect(c.fit('small', long).request.history.length).toBeLessThan(first);
  });

  it('forgets the model learnt longest ago past 64', () => {
    const { contexts: c } = contexts();
    for (let i = 0; i <= 64; i++) c.refused(`model-${i}`, tooLong, request(turns(4)), false);
    expect(c.contextOf('model-0')).toBeUndefined();
    expect(c.contextOf('model-64')).toBe(1000);
  });

  it('says an output limit the model cannot give at error level, not on every message', () => {
    const { contexts: c, lines } = contexts();
    const refused = refusal("'max_tokens' or 'max_completion_tokens' is too large: 200. This model's maximum context length is 128 tokens and your request has 9 input tokens (200 > 128 - 9).");
    for (let i = 0; i < 3; i++) c.refused('tiny', refused, request([]), false);
    const said = lines.filter((line) => line.level === 50);
    expect(said).toHaveLength(1);
    expect(said[0]!.msg).toMatch(/OPENAI_MAX_OUTPUT_TOKENS=200.*reads 128 tokens/);
    expect(c.contextOf('tiny')).toBeUndefined();
  });
});

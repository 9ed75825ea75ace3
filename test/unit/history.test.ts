import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConversationHistory, estimateTokens, type HistoryOptions } from '../../src/ai/history.js';
import type { Turn } from '../../src/message.js';
import { MemoryStore } from '../../src/store/index.js';
import { conversation } from './helpers.js';

let store: MemoryStore;
beforeEach(() => {
  store = new MemoryStore();
});
afterEach(async () => {
  vi.useRealTimers();
  await store.close();
});

const history = (options: Partial<HistoryOptions> = {}) =>
  new ConversationHistory(store, { turns: 20, tokenBudget: 10_000, ttlSeconds: 3600, ...options });

const turn = (text: string, role: Turn['role'] = 'user'): Turn => ({ role, text, at: '2024-01-01T00:00:00.000Z' });
const texts = (turns: Turn[]) => turns.map((t) => t.text);

describe('estimateTokens', () => {
  it('grows with the text, about four characters a token plus overhead', () => {
    expect(estimateTokens('')).toBe(4);
    expect(estimateTokens('abcd')).toBe(5);
    expect(estimateTokens('abcde')).toBe(6);
    expect(estimateTokens('x'.repeat(400))).toBe(104);
  });

  it('counts a token for each character that is not ASCII: Chinese and emoji are not four to a token', () => {
    expect(estimateTokens('你好世界')).toBe(8); // four characters, four tokens, plus overhead
    expect(estimateTokens('你'.repeat(600))).toBe(604);
    expect(estimateTokens('😀😀')).toBe(6); // a character, not each half of its surrogate pair
    expect(estimateTokens('hi 你好')).toBe(7); // one for the three ASCII characters, two for the others
  });

  it('keeps a conversation in Chinese within the budget in real tokens (about one a character)', async () => {
    const h = history({ tokenBudget: 3000, turns: 40 });
    const conv = conversation();
    await h.append(conv, Array.from({ length: 12 }, (_, n) => turn(`${n}${'中'.repeat(600)}`)));
    const window = await h.window(conv);
    const characters = window.reduce((sum, t) => sum + [...t.text].length, 0);
    expect(characters).toBeLessThanOrEqual(3000);
    expect(window.length).toBeGreaterThan(0);
  });
});

describe('ConversationHistory', () => {
  it('returns the appended turns in order, with role and time', async () => {
    const h = history();
    const conv = conversation('c1');
    await h.append(conv, [turn('hi'), turn('hello!', 'assistant')]);
    await h.append(conv, [turn('how are you?')]);
    const window = await h.window(conv);
    expect(window).toEqual([turn('hi'), turn('hello!', 'assistant'), turn('how are you?')]);
  });

  it('is empty for a new conversation', async () => {
    expect(await history().window(conversation('new'))).toEqual([]);
  });

  it('keeps conversations apart, also across platforms with the same id', async () => {
    const h = history();
    await h.append(conversation('c1', 'slack'), [turn('slack c1')]);
    await h.append(conversation('c2', 'slack'), [turn('slack c2')]);
    await h.append(conversation('c1', 'web'), [turn('web c1')]);
    expect(texts(await h.window(conversation('c1', 'slack')))).toEqual(['slack c1']);
    expect(texts(await h.window(conversation('c2', 'slack')))).toEqual(['slack c2']);
    expect(texts(await h.window(conversation('c1', 'web')))).toEqual(['web c1']);
  });

  it('keeps only the newest `turns` turns, dropping the oldest first', async () => {
    const h = history({ turns: 3 });
    const conv = conversation();
    for (let i = 1; i <= 7; i++) await h.append(conv, [turn(`t${i}`)]);
    expect(texts(await h.window(conv))).toEqual(['t5', 't6', 't7']);
  });

  it('caps the stored list, not only the window', async () => {
    const h = history({ turns: 2 });
    const conv = conversation();
    await h.append(conv, [turn('a'), turn('b'), turn('c'), turn('d')]);
    expect(await store.listRange(`parley:history:${conv.platform}:${conv.id}`, 0, -1)).toHaveLength(2);
  });

  it('keeps the newest turns that fit the token budget, dropping the oldest first', async () => {
    const text = 'x'.repeat(40); // 14 tokens each
    expect(estimateTokens(text)).toBe(14);
    const h = history({ tokenBudget: 14 * 3 + 13 });
    const conv = conversation();
    await h.append(conv, [1, 2, 3, 4, 5].map((n) => turn(`${n}${text.slice(1)}`)));
    const window = await h.window(conv);
    expect(window.map((t) => t.text[0])).toEqual(['3', '4', '5']);
    const used = window.reduce((sum, t) => sum + estimateTokens(t.text), 0);
    expect(used).toBeLessThanOrEqual(14 * 3 + 13);
  });

  it('stops at the first turn that does not fit, so the window stays contiguous', async () => {
    const h = history({ tokenBudget: 30 });
    const conv = conversation();
    await h.append(conv, [turn('short'), turn('y'.repeat(200)), turn('recent')]);
    expect(texts(await h.window(conv))).toEqual(['recent']);
  });

  it('is empty when even the newest turn is over the budget', async () => {
    const h = history({ tokenBudget: 10 });
    const conv = conversation();
    await h.append(conv, [turn('old'), turn('z'.repeat(100))]);
    expect(await h.window(conv)).toEqual([]);
  });

  it('begins at a user turn: an answer whose question the budget or the turn count cut off is left out', async () => {
    // Strict chat templates (Mistral, Gemma on vLLM, llama.cpp) refuse roles that do not alternate from a user turn.
    const conv = conversation();
    const pair = (n: number, question: string) => [turn(`q${n} ${question}`), turn(`a${n}`, 'assistant')];
    await history().append(conv, [...pair(1, 'x'.repeat(200)), ...pair(2, 'short')]);
    // The budget fits a1 but not q1.
    expect(texts(await history({ tokenBudget: 40 }).window(conv))).toEqual(['q2 short', 'a2']);
    expect(texts(await history({ turns: 3 }).window(conv))).toEqual(['q2 short', 'a2']);
    // Only an answer fits: no history rather than one that begins with it.
    expect(await history({ tokenBudget: 6 }).window(conv)).toEqual([]);
  });

  it('applies both the turn count and the budget', async () => {
    const h = history({ turns: 4, tokenBudget: 1000 });
    const conv = conversation();
    for (let i = 1; i <= 6; i++) await h.append(conv, [turn(`m${i}`)]);
    expect(texts(await h.window(conv))).toEqual(['m3', 'm4', 'm5', 'm6']);
  });

  it('turns = 0 keeps no history at all', async () => {
    const h = history({ turns: 0 });
    const conv = conversation();
    await h.append(conv, [turn('a')]);
    expect(await h.window(conv)).toEqual([]);
    expect(await store.listRange(`parley:history:${conv.platform}:${conv.id}`, 0, -1)).toEqual([]);
  });

  it('forgets a quiet conversation after the TTL, and each append restarts it', async () => {
    vi.useFakeTimers();
    const h = history({ ttlSeconds: 60 });
    const conv = conversation();
    await h.append(conv, [turn('first')]);
    vi.advanceTimersByTime(50_000);
    await h.append(conv, [turn('second')]);
    vi.advanceTimersByTime(50_000);
    expect(texts(await h.window(conv))).toEqual(['first', 'second']);
    vi.advanceTimersByTime(10_000);
    expect(await h.window(conv)).toEqual([]);
  });
});

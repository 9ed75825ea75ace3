/**
 * Labels whose values come from outside parley stay bounded (README "Operations"): the model a
 * provider or a proxy says answered (`ai_tokens_total`, `ai_cost_usd_total`), and a platform's
 * error code in a dead letter's reason (`dead_lettered_total`). A server naming a new model per
 * answer, or an API putting text in its error code, must not add a Prometheus series each time.
 */
import { describe, expect, it } from 'vitest';
import { aiEvents } from '../../src/ai-events.js';
import { createMetrics } from '../../src/observe/index.js';
import { MAX_OUTSIDE_VALUES } from '../../src/observe/label-values.js';

const usage = { inputTokens: 3, outputTokens: 2, costUsd: 0.001 };

async function labelValues(metric: { get(): Promise<{ values: { labels: Record<string, unknown> }[] }> }, label: string): Promise<Set<unknown>> {
  return new Set((await metric.get()).values.map((value) => value.labels[label]));
}

describe('metric labels from outside', () => {
  it('a server naming a new model for every answer adds at most MAX_OUTSIDE_VALUES models, then `other`; configured and priced models keep their names', async () => {
    const metrics = createMetrics();
    metrics.knowModels('gpt-4o-mini', 'my-fallback');
    const events = aiEvents(metrics);
    for (let i = 0; i < 500; i++) events.onUsage!({ model: `proxy-model-${i}`, usage });
    events.onUsage!({ model: 'gpt-4o-mini', usage });
    events.onUsage!({ model: 'my-fallback', usage });
    const models = await labelValues(metrics.tokens, 'model');
    expect(models.size).toBe(MAX_OUTSIDE_VALUES + 3);
    expect(models).toContain('other');
    expect(models).toContain('gpt-4o-mini');
    expect(models).toContain('my-fallback');
    expect(await labelValues(metrics.cost, 'model')).toEqual(models);
    // Every token is still counted: the series are bounded, not the counts.
    const input = (await metrics.tokens.get()).values.filter((v) => v.labels.direction === 'input').reduce((sum, v) => sum + v.value, 0);
    expect(input).toBe(502 * 3);
  });

  it('a model name that is no name (a sentence, a page) reads `other` at once', async () => {
    const metrics = createMetrics();
    aiEvents(metrics).onUsage!({ model: `<html>${'x'.repeat(5000)}</html>`, usage });
    expect(await labelValues(metrics.cost, 'model')).toEqual(new Set(['other']));
  });

  it('dead-letter reasons carrying platform codes are bounded; parley\'s own reasons are never `other`', async () => {
    const metrics = createMetrics();
    for (let i = 0; i < 300; i++) metrics.deadLettered.inc({ platform: 'intercom', reason: `intercom_code_${i}` });
    metrics.deadLettered.inc({ platform: 'whatsapp', reason: `twilio_weird code ${'z'.repeat(3000)}` });
    for (const reason of ['attempts_exhausted', 'stalled', 'max_wait', 'poison', 'ai_client', 'ai_input_too_long', 'ai_content_filtered', 'invalid_job']) metrics.deadLettered.inc({ platform: 'slack', reason });
    const reasons = await labelValues(metrics.deadLettered, 'reason');
    expect(reasons.size).toBe(MAX_OUTSIDE_VALUES + 1 + 8);
    expect(reasons).toContain('attempts_exhausted');
    expect(reasons).toContain('ai_input_too_long');
    expect(reasons).toContain('ai_content_filtered');
    expect([...reasons].every((reason) => String(reason).length <= 100)).toBe(true);
    const total = (await metrics.deadLettered.get()).values.reduce((sum, v) => sum + v.value, 0);
    expect(total).toBe(309);
  });
});

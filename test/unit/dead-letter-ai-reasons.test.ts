/**
 * Every kind of AI failure that ends a message gives a dead-letter reason the metrics know
 * (`ai_<kind>`, README "Dead letters"): never `other`, however many platform codes came before.
 * The kinds come from the AI client's one list, so a new kind needs no second list to stay known.
 */
import { describe, expect, it } from 'vitest';
import { AI_ERROR_KINDS, AiError } from '../../src/ai/index.js';
import { PermanentError } from '../../src/adapter.js';
import { asQueueError } from '../../src/failure.js';
import { createMetrics } from '../../src/observe/index.js';
import { MAX_OUTSIDE_VALUES } from '../../src/observe/label-values.js';

describe('dead-letter reasons of AI failures', () => {
  it('every AiError kind, final, dead-letters with a reason the metric keeps by name', async () => {
    const metrics = createMetrics();
    // The outside values' room filled first: an unknown reason would now read `other`.
    for (let i = 0; i <= MAX_OUTSIDE_VALUES; i++) metrics.deadLettered.inc({ platform: 'slack', reason: `slack_code_${i}` });
    const given = [...AI_ERROR_KINDS.map((kind) => new AiError(kind, `failed: ${kind}`, { retryable: false })), new AiError('client', 'maximum context length exceeded', { status: 400, retryable: false })];
    const reasons: string[] = [];
    for (const error of given) {
      const queued = asQueueError(error);
      expect(queued).toBeInstanceOf(PermanentError);
      reasons.push((queued as PermanentError).reason);
      metrics.deadLettered.inc({ platform: 'slack', reason: (queued as PermanentError).reason });
    }
    expect(reasons).toContain('ai_input_too_long');
    const labelled = new Set((await metrics.deadLettered.get()).values.map((value) => value.labels.reason));
    for (const reason of reasons) expect(labelled).toContain(reason);
  });
});

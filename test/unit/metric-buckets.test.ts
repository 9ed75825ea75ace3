/**
 * Each histogram's buckets reach past the longest time parley lets what it measures take by
 * default: above the top finite bucket, histogram_quantile (the dashboard's p95) reads that bucket's
 * bound whatever the real time, so a slow time the defaults allow would read short.
 */
import { describe, expect, it } from 'vitest';
import { variables } from '../../src/config-variables.js';
import { createMetrics } from '../../src/observe/index.js';

const seconds = (name: keyof typeof variables) => Number((variables[name] as { default?: string }).default) / 1000;

async function topBucket(metric: string): Promise<number> {
  const metrics = createMetrics();
  metrics.jobDuration.observe({ platform: 'web', outcome: 'answered' }, 0.01);
  metrics.aiLatency.observe({ model: 'm', outcome: 'ok' }, 0.01);
  metrics.replySeconds.observe({ platform: 'web' }, 0.01);
  const text = await metrics.registry.metrics();
  const bounds = [...text.matchAll(new RegExp(`^${metric}_bucket\\{[^}]*le="([^"]+)"`, 'gm'))].map((m) => m[1]!).filter((le) => le !== '+Inf').map(Number);
  expect(bounds.length, metric).toBeGreaterThan(0);
  return Math.max(...bounds);
}

describe('histogram buckets fit what they measure', () => {
  it('parley_job_duration_seconds: one attempt may last the whole AI_DEADLINE_MS', async () => {
    expect(await topBucket('parley_job_duration_seconds')).toBeGreaterThan(seconds('AI_DEADLINE_MS'));
  });

  it('parley_ai_latency_seconds: one attempt may last the whole AI_TIMEOUT_MS', async () => {
    expect(await topBucket('parley_ai_latency_seconds')).toBeGreaterThan(seconds('AI_TIMEOUT_MS'));
  });

  it('parley_reply_seconds: a message may wait AI_MAX_WAIT_MS and still be answered', async () => {
    expect(await topBucket('parley_reply_seconds')).toBeGreaterThanOrEqual(seconds('AI_MAX_WAIT_MS'));
  });
});

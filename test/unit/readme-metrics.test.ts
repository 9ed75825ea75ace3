/**
 * README's `GET /metrics` list names every metric parley exports (Node's defaults aside): a metric
 * described only in a section of its own (the conversation log's, say) is one an operator reading
 * the list never learns of.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { createMetrics } from '../../src/observe/index.js';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

it("README's /metrics list names every parley_ metric", async () => {
  const start = readme.indexOf('`GET /metrics` — Prometheus text');
  expect(start).toBeGreaterThan(-1);
  const list = readme.slice(start, readme.indexOf('\n* ', start));
  const names = (await createMetrics().registry.getMetricsAsJSON()).map((metric) => metric.name.replace(/^parley_/, ''));
  expect(names.filter((name) => !list.includes(`\`${name}\``) && !list.includes(`\`${name}{`))).toEqual([]);
});

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

it("README's /metrics list gives each metric's labels as exported, and names no metric parley does not export", () => {
  const start = readme.indexOf('`GET /metrics` — Prometheus text');
  const list = readme.slice(start, readme.indexOf('\n* ', start));
  const exported = new Map(createMetrics().registry.getMetricsAsArray().map((metric) => [metric.name.replace(/^parley_/, ''), [...((metric as unknown as { labelNames?: string[] }).labelNames ?? [])].join(',')]));
  // Every `name{labels}` in the list, as written (a label list is the code's, in its order).
  const documented = [...list.matchAll(/`([a-z_]+)\{([a-z_,]*)\}`/g)].map(([, name, labels]) => ({ name: name!, labels: labels! }));
  expect(documented.length).toBeGreaterThan(20);
  expect(documented.filter(({ name, labels }) => exported.get(name) !== labels)).toEqual([]);
  // A metric with labels is written with them: the bare name alone would hide them.
  const unlabelled = [...exported].filter(([name, labels]) => labels !== '' && !documented.some((entry) => entry.name === name));
  expect(unlabelled).toEqual([]);
});

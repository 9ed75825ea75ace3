import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observe/index.js';
import { adapterCounts } from '../../src/observe/metrics.js';
import { Alerts } from '../../src/ops/alerts.js';
import { MemoryStore } from '../../src/store/index.js';

// The Grafana dashboard over the series a parley process has, or has not yet, exported: a panel
// or variable that reads a series some processes never create, or create late, reads nothing.

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: { expr?: string }[];
}
interface Variable {
  name: string;
  query?: string | { query?: string };
}
const dashboard = JSON.parse(readFileSync(root + 'deploy/grafana/parley.json', 'utf8')) as { panels?: Panel[]; templating?: { list?: Variable[] } };
const allPanels = (panels: Panel[] = []): Panel[] => panels.flatMap((panel) => [panel, ...allPanels(panel.panels)]);

const work = mkdtempSync(join(tmpdir(), 'parley-dashboard-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs promtool on a rules unit-test file holding `tests`; its output when it fails. */
async function promtoolTest(tests: string): Promise<{ code: number; output: string }> {
  const file = join(work, 'panel.test.yml');
  writeFileSync(file, `evaluation_interval: 1m\ntests:\n${tests}`);
  try {
    const { stdout, stderr } = await promisify(execFile)('promtool', ['test', 'rules', file]);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code?: number | string; stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') throw new Error("promtool is not installed: install Debian's prometheus package (apt-get install prometheus)");
    return { code: 1, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

describe('the dashboard reads series every process has', () => {
  it('the Job variable lists every parley process, workers too: its metric is on /metrics before anything happened', async () => {
    const job = dashboard.templating?.list?.find((variable) => variable.name === 'job');
    const query = typeof job?.query === 'string' ? job.query : (job?.query?.query ?? '');
    const metric = /label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*job\s*\)/.exec(query)?.[1];
    expect(metric, query).toBeDefined();
    // A fresh process: no webhook taken (a worker never takes one), no message answered.
    const exposition = await createMetrics({ defaultMetrics: true }).registry.metrics();
    expect(exposition).toMatch(new RegExp(`^${metric}(?:\\{[^}]*\\})? `, 'm'));
  });

  it('parley exports parley_alerts_total at 0 for every kind from the start', async () => {
    const metrics = createMetrics();
    new Alerts({ store: new MemoryStore(), metrics, logger: pino({ level: 'silent' }) });
    const exposition = await metrics.registry.metrics();
    for (const kind of ['budget_warning', 'budget_exceeded', 'dead_letters', 'breaker_open', 'signature_failures', 'ai_key_rejected']) {
      expect(exposition).toMatch(new RegExp(`^parley_alerts_total\\{kind="${kind}"\\} 0$`, 'm'));
    }
  });

  it('a process exports at 0, from its start, the labelled series the panels rate: a first burst is not lost to rate()', async () => {
    // Found against a live Prometheus: 38 signature failures raised ParleySignatureFailureSpike, but the
    // "Signature failures per minute" panel read 0, as did rate-limit refusals, duplicates, apologies and ratings.
    const metrics = createMetrics();
    adapterCounts(metrics, 'slack'); // as the bot does for each adapter it starts
    const exposition = await metrics.registry.metrics();
    const zero = [
      ...['webhooks_received', 'messages_received', 'duplicates_dropped', 'replies_failed', 'platform_waits', 'conversation_log_failed'].map((name) => `parley_${name}_total{platform="slack"}`),
      ...['missing_signature', 'bad_signature', 'bad_timestamp', 'stale_timestamp'].map((reason) => `parley_webhooks_rejected_total{platform="slack",reason="${reason}"}`),
      ...['user', 'conversation', 'tenant'].map((limit) => `parley_rate_limited_total{platform="slack",limit="${limit}"}`),
      ...['answer', 'apology', 'notice'].map((kind) => `parley_replies_sent_total{platform="slack",kind="${kind}"}`),
      ...['good', 'bad'].map((rating) => `parley_feedback_total{platform="slack",rating="${rating}"}`),
      ...['server', 'rate_limited', 'timeout'].map((kind) => `parley_ai_errors_total{kind="${kind}"}`),
      ...['hit', 'miss'].map((result) => `parley_cache_lookups_total{result="${result}"}`),
    ];
    for (const series of zero) expect(exposition, series).toContain(`\n${series} 0\n`);
  });

  it('"Alerts raised in the time range" counts an alert raised before its process was first scraped, and only the range\'s', async () => {
    const panel = allPanels(dashboard.panels).find((p) => p.title === 'Alerts raised in the time range');
    const expr = panel!.targets![0]!.expr!.replaceAll('$job', '.*').replaceAll('$__range_s', '1800').replaceAll('$__range', '30m');
    // a: started at second 1, raised budget_exceeded before its first scrape (at minute 3, reading 1).
    // b: scraped from minute 0 but started a day before, one old alert: not raised in the range.
    // c: started a day before, scraped from minute 0, raises dead_letters at minute 21.
    const { code, output } = await promtoolTest(`
  - interval: 1m
    input_series:
      - series: 'parley_process_start_time_seconds{job="parley", instance="a:3000"}'
        values: '1x50'
      - series: 'parley_alerts_total{job="parley", instance="a:3000", kind="budget_exceeded"}'
        values: '_x3 1x47'
      - series: 'parley_process_start_time_seconds{job="parley", instance="b:3000"}'
        values: '-86400x50'
      - series: 'parley_alerts_total{job="parley", instance="b:3000", kind="budget_warning"}'
        values: '1x50'
      - series: 'parley_process_start_time_seconds{job="parley", instance="c:3000"}'
        values: '-86400x50'
      - series: 'parley_alerts_total{job="parley", instance="c:3000", kind="dead_letters"}'
        values: '0x20 1x29'
    promql_expr_test:
      - expr: ${JSON.stringify(expr)}
        eval_time: 4m
        exp_samples:
          - { labels: '{kind="budget_exceeded"}', value: 1 }
          - { labels: '{kind="budget_warning"}', value: 0 }
          - { labels: '{kind="dead_letters"}', value: 0 }
      - expr: ${JSON.stringify(expr)}
        eval_time: 40m
        exp_samples:
          - { labels: '{kind="budget_exceeded"}', value: 0 }
          - { labels: '{kind="budget_warning"}', value: 0 }
          - { labels: '{kind="dead_letters"}', value: 1 }
`);
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });
});

import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { dlq } from '../../cli/dlq.js';
import { loadConfig } from '../../src/index.js';
import { createMetrics } from '../../src/observe/index.js';
import { SIGNATURE_REASON } from '../../src/ops/activity.js';

// The Grafana dashboard and the Prometheus alert rules in deploy/ may only name metrics parley
// exports (a renamed metric would leave a panel empty or an alert silent), and the rules must load.

const root = fileURLToPath(new URL('../../', import.meta.url));
const dashboardPath = 'deploy/grafana/parley.json';
const rulesPath = 'deploy/prometheus/alerts.yml';
const rulesTestPath = 'deploy/prometheus/alerts.test.yml';
const read = (path: string) => readFileSync(root + path, 'utf8');

/** What parley's /metrics exports, defaults included: name → type (counter, gauge, histogram...). */
let exported: Map<string, string>;

beforeAll(async () => {
  const metrics = createMetrics({ defaultMetrics: true });
  exported = new Map((await metrics.registry.getMetricsAsJSON()).map((metric) => [metric.name, String(metric.type)]));
});

// Words of PromQL that are neither functions (those are followed by "(") nor metrics.
const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'atan2', 'start', 'end']);

/** The metric names a PromQL expression selects. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings ("$job", label values)
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries ([5m], [$__rate_interval])
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names = new Set<string>();
  for (const [, name, call] of stripped.matchAll(/(?<![\w:.$])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    if (!call && !keywords.has(name!.toLowerCase())) names.add(name!);
  }
  return [...names];
}

/** The exported metric a name stands for: itself, or the histogram (summary) of a _bucket, _sum or _count series. */
function exportedAs(name: string): string | undefined {
  if (exported.has(name)) return name;
  const base = /^(.+)_(?:bucket|sum|count)$/.exec(name)?.[1];
  const type = base ? exported.get(base) : undefined;
  return type === 'histogram' || type === 'summary' ? base : undefined;
}

interface Panel {
  type?: string;
  title?: string;
  panels?: Panel[];
  targets?: { expr?: string }[];
}

function allPanels(panels: Panel[] = []): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels)]);
}

/** The value of every `expr:` in a rules file: plain, quoted, or a block (| or >) on the lines below. */
function ruleExprs(yaml: string): string[] {
  const lines = yaml.split('\n');
  const exprs: string[] = [];
  lines.forEach((line, i) => {
    const match = /^(\s*)(?:-\s+)?expr:\s*(.*)$/.exec(line);
    if (!match) return;
    const indent = match[1]!.length;
    const value = match[2]!.replace(/\s+#.*$/, '').trim();
    if (/^[|>][-+]?$/.test(value)) {
      const block: string[] = [];
      for (const next of lines.slice(i + 1)) {
        if (next.trim() !== '' && next.search(/\S/) <= indent) break;
        block.push(next.trim());
      }
      exprs.push(block.join(' ').trim());
    } else if (/^".*"$/.test(value)) {
      exprs.push(JSON.parse(value) as string);
    } else if (/^'.*'$/.test(value)) {
      exprs.push(value.slice(1, -1).replace(/''/g, "'"));
    } else {
      exprs.push(value);
    }
  });
  return exprs;
}

/** Each alerting rule's text, from its `- alert:` line to the next rule. */
function alertRules(yaml: string): { name: string; text: string }[] {
  return yaml
    .split(/^(?=[ \t]*- alert:)/m)
    .slice(1)
    .map((text) => ({ name: /- alert:\s*(\S+)/.exec(text)![1]!, text }));
}

/** Series Prometheus makes itself for every target: `up` (1 when its scrape worked, else 0). */
const PROMETHEUS_OWN = new Set(['up']);

function expectExported(source: string, expr: string, prometheusOwn = new Set<string>()) {
  const names = metricNames(expr);
  expect(names, `${source} selects no metric: ${expr}`).not.toEqual([]);
  for (const name of names.filter((n) => !prometheusOwn.has(n))) {
    expect(exportedAs(name), `${source} uses ${name}, which parley does not export: ${expr}`).toBeDefined();
  }
}

describe('metricNames (the PromQL reading the checks below rely on)', () => {
  it('finds the metrics, not the functions, keywords, labels, strings or durations', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le, model) (rate(parley_ai_latency_seconds_bucket{job=~"$job"}[$__rate_interval])))')).toEqual(['parley_ai_latency_seconds_bucket']);
    expect(metricNames('sum(rate(a_total{reason=~"x|y"}[1m])) * 60 >= 30')).toEqual(['a_total']);
    expect(metricNames('max by (job, period) (spent) / on (job) group_left (period) max without (instance) (limit) >= 0.8 < 1')).toEqual(['spent', 'limit']);
    expect(metricNames('increase(x[10m] offset 5m) > 0 and bool y unless absent(z)')).toEqual(['x', 'y', 'z']);
    expect(metricNames('rate(x[5m:1m]) or vector(1e3)')).toEqual(['x']);
  });
});

describe('the Grafana dashboard (deploy/grafana/parley.json)', () => {
  const dashboard = JSON.parse(read(dashboardPath)) as {
    title?: string;
    uid?: string;
    schemaVersion?: number;
    panels?: Panel[];
    templating?: { list?: { name: string; type: string; query?: unknown; definition?: string }[] };
  };
  const panels = allPanels(dashboard.panels);
  const targets = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title ?? '(untitled)', expr: target.expr })));

  it('is valid JSON with a title, a uid, a schema version, and a Prometheus datasource variable', () => {
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating?.list).toContainEqual(expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', query: 'prometheus' }));
  });

  it('has panels with queries, nested in collapsed rows too, every one with an expr', () => {
    expect(targets.length).toBeGreaterThan(0);
    expect(panels.some((panel) => panel.type === 'row' && (panel.panels ?? []).length > 0), 'a collapsed row holds panels of its own').toBe(true);
    for (const target of targets) expect(target.expr, `a query of "${target.panel}"`).toMatch(/\S/);
    const ids = panels.map((panel) => (panel as { id?: number }).id);
    expect(new Set(ids).size, 'panel ids are unique').toBe(ids.length);
  });

  it('queries only metrics parley exports', () => {
    for (const { panel, expr } of targets) expectExported(`panel "${panel}"`, expr!);
    for (const variable of dashboard.templating?.list ?? []) {
      const query = typeof variable.query === 'string' ? variable.query : ((variable.query as { query?: string } | undefined)?.query ?? '');
      const metric = /label_values\(\s*([a-zA-Z_:][\w:]*)\s*,/.exec(query)?.[1];
      if (metric) expect(exportedAs(metric), `variable $${variable.name} uses ${metric}`).toBeDefined();
    }
  });

  it("charts every one of parley's own metrics (the defaults aside)", () => {
    const charted = new Set(targets.flatMap(({ expr }) => metricNames(expr!).map(exportedAs)));
    const own = [...exported.keys()].filter((name) => !/^parley_(process|nodejs)_/.test(name));
    expect(own.filter((name) => !charted.has(name)), 'metrics without a panel').toEqual([]);
  });
});

describe('the Prometheus alert rules (deploy/prometheus/alerts.yml)', () => {
  const yaml = read(rulesPath);
  const exprs = ruleExprs(yaml);
  const rules = alertRules(yaml);

  it('has rules, each with an expr, a severity, a summary and a description', () => {
    expect(yaml).toMatch(/^groups:/m);
    expect(exprs.length).toBeGreaterThan(0);
    expect(rules.length).toBe(exprs.length);
    expect(new Set(rules.map((rule) => rule.name)).size, 'alert names are unique').toBe(rules.length);
    for (const { name, text } of rules) {
      expect(text, `${name}'s expr`).toMatch(/^[ \t]+expr:[ \t]*\S/m);
      expect(text, `${name}'s labels.severity`).toMatch(/^[ \t]+labels:[ \t]*\n(?:[ \t]+\w+:.*\n)*?[ \t]+severity:[ \t]*(?:critical|warning|info)[ \t]*$/m);
      expect(text, `${name}'s annotations.summary`).toMatch(/^[ \t]+annotations:[ \t]*\n(?:[ \t]+\w+:.*\n)*?[ \t]+summary:[ \t]*\S/m);
      expect(text, `${name}'s annotations.description`).toMatch(/^[ \t]+annotations:[ \t]*\n(?:[ \t]+\w+:.*\n)*?[ \t]+description:[ \t]*\S/m);
    }
  });

  it('uses only metrics parley exports', () => {
    // The rules may read a target's `up` (ParleyProcessDown), joined with a parley_ metric.
    for (const expr of exprs) expectExported('an alert rule', expr, PROMETHEUS_OWN);
  });

  it('tells the operator only dlq commands parley takes (in the rules and in their tests)', async () => {
    const commands = [...`${yaml}\n${read(rulesTestPath)}`.matchAll(/`npx parley dlq ([^`]*)`/g)].map((m) => m[1]!.split(/\s+/));
    expect(commands.length).toBeGreaterThan(0);
    const printed: string[] = [];
    const spies = [vi.spyOn(console, 'error'), vi.spyOn(console, 'log')].map((spy) => spy.mockImplementation((line: string) => void printed.push(line)));
    try {
      for (const words of commands) {
        printed.length = 0;
        // No queue configured: a whole command asks for REDIS_URL or SQS_QUEUE_URL; a wrong one gets its usage.
        await dlq(loadConfig({}), words.filter((w) => w !== '--all'), words.includes('--all'));
        expect(printed.join('\n'), `npx parley dlq ${words.join(' ')}`).not.toMatch(/usage:/);
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it('mirrors the alerts parley raises itself', () => {
    for (const kind of ['dead_letters', 'breaker_open', 'signature_failures', 'budget_warning', 'budget_exceeded', 'ai_key_rejected']) {
      expect(yaml, `a rule labelled kind: ${kind}`).toMatch(new RegExp(`^[ \\t]+kind: ${kind}$`, 'm'));
    }
  });
});

/** Every `reason` label parley's code can give parley_webhooks_rejected_total: each HttpError's, and the router's own. */
function rejectionReasons(): string[] {
  const files = ['src', 'adapters'].flatMap((dir) => readdirSync(root + dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => `${dir}/${f}`));
  const reasons = new Set(['unavailable']);
  for (const file of files) for (const [, reason] of read(file).matchAll(/HttpError\(\s*\d+\s*,\s*'([a-z_]+)'/g)) reasons.add(reason!);
  return [...reasons].sort();
}

/** The `reason=~"…"` of a PromQL expression, as Prometheus applies it (anchored at both ends). */
function reasonMatcher(expr: string): RegExp {
  const pattern = /reason=~"([^"]*)"/.exec(expr)?.[1];
  expect(pattern, `a reason=~ filter in ${expr}`).toBeDefined();
  return new RegExp(`^(?:${pattern!})$`);
}

describe('signature failures: Prometheus counts what parley counts', () => {
  const reasons = rejectionReasons();
  const counted = reasons.filter((reason) => SIGNATURE_REASON.test(reason));

  it('finds the reasons the adapters refuse a signature or timestamp with', () => {
    expect(counted).toEqual(expect.arrayContaining(['bad_signature', 'bad_timestamp', 'missing_signature', 'stale_timestamp']));
    expect(reasons).toEqual(expect.arrayContaining(['malformed_body', 'unavailable']));
  });

  it('the ParleySignatureFailureSpike rule and the dashboard panel match exactly the reasons parley alerts on', () => {
    const rule = alertRules(read(rulesPath)).find((r) => r.name === 'ParleySignatureFailureSpike')!;
    const panelExprs = allPanels((JSON.parse(read(dashboardPath)) as { panels?: Panel[] }).panels)
      .flatMap((panel) => (panel.targets ?? []).map((target) => target.expr ?? ''))
      .filter((expr) => expr.includes('parley_webhooks_rejected_total') && expr.includes('reason=~'));
    expect(panelExprs.length).toBeGreaterThan(0);
    for (const expr of [ruleExprs(rule.text)[0]!, ...panelExprs]) {
      const matcher = reasonMatcher(expr);
      expect(reasons.filter((reason) => matcher.test(reason)), expr).toEqual(counted);
    }
  });
});

describe('promtool (Debian package prometheus)', () => {
  const promtool = promisify(execFile);

  async function run(...args: string[]): Promise<{ code: number; output: string }> {
    try {
      const { stdout, stderr } = await promtool('promtool', args, { cwd: root });
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const failure = error as NodeJS.ErrnoException & { code?: number | string; stdout?: string; stderr?: string };
      if (failure.code === 'ENOENT') {
        throw new Error("promtool is not installed, and these rules must be checked by it: install Debian's prometheus package (apt-get install prometheus)");
      }
      return { code: typeof failure.code === 'number' ? failure.code : 1, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
    }
  }

  it('checks the rules: promtool check rules deploy/prometheus/alerts.yml', async () => {
    const { code, output } = await run('check', 'rules', rulesPath);
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it('passes the rules unit tests: promtool test rules deploy/prometheus/alerts.test.yml', async () => {
    const { code, output } = await run('test', 'rules', rulesTestPath);
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });
});

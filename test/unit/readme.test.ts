import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { intercomVariables } from '../../adapters/intercom/index.js';
import { slackVariables } from '../../adapters/slack/index.js';
import { whatsappVariables } from '../../adapters/whatsapp/index.js';
import { variables } from '../../src/index.js';
import { DEFAULT_METRICS_PORT } from '../../cli/worker-metrics.js';
import { DEFAULT_WORKER_NICE } from '../../cli/worker-nice.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const scripts = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;

const allVariables = { ...variables, ...slackVariables, ...intercomVariables, ...whatsappVariables };

/** `NAME=value` assignments in the README's shell blocks, with a concrete value (not `…`, `<…>` or `$(…)`). */
function exampleAssignments(): { name: keyof typeof allVariables; value: string; line: string }[] {
  const blocks = [...readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].map((match) => match[1]!);
  return blocks.flatMap((block) =>
    block.split('\n').flatMap((line) =>
      [...line.matchAll(/(?:^|\s)([A-Z][A-Z0-9_]+)=([^\s'"`]+)/g)]
        .filter(([, name, value]) => name! in allVariables && !/[…<$]/.test(value!))
        .map(([, name, value]) => ({ name: name as keyof typeof allVariables, value: value!, line: line.trim() })),
    ),
  );
}

describe('the README', () => {
  it('shows the two first commands on its first screen', () => {
    const firstScreen = readme.split('\n').slice(0, 20).join('\n');
    expect(firstScreen).toContain('npm install && npm start');
    expect(firstScreen).toContain('npm test');
  });

  it('says in its introduction which model an OpenAI-compatible server must serve (the default), and how to check', () => {
    const intro = readme.slice(0, readme.indexOf('\n---\n'));
    expect(intro).toContain('`OPENAI_MODEL`');
    expect(intro).toContain(`\`${variables.OPENAI_MODEL.default}\``);
    expect(intro).toContain('npx parley check');
  });

  it('links and names only files that exist, and runs only npm scripts that exist', () => {
    const links = [...readme.matchAll(/\]\(([^)#:\s]+)(?:#[^)]*)?\)/g)].map((match) => match[1]!);
    expect(links.length).toBeGreaterThan(3);
    expect(links.filter((link) => !existsSync(new URL(`../../${link}`, import.meta.url)))).toEqual([]);
    const paths = [...readme.matchAll(/`((?:examples|test|src|cli|adapters|aws|deploy|docs|scripts|bench)\/[\w./-]+)`/g)].map((match) => match[1]!);
    expect(paths.filter((path) => !existsSync(new URL(`../../${path}`, import.meta.url)))).toEqual([]);
    const runs = [...readme.matchAll(/npm run ([\w:-]+)/g)].map((match) => match[1]!);
    expect(runs.filter((name) => !(name in scripts))).toEqual([]);
  });

  it('documents every configuration variable with its default', () => {
    for (const [name, variable] of Object.entries(allVariables)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, `${name} is missing from the configuration table`).toBeDefined();
      const documentedDefault = row!.split('|')[2]!.trim();
      const expected = 'default' in variable && variable.default ? `\`${variable.default}\`` : '—';
      expect(documentedDefault, `${name}'s default`).toBe(expected);
    }
  });

  it('lists in its configuration table only variables parley reads', () => {
    // Read by the command line alone (parley worker and parley check), outside the configuration's tables.
    const cliOnly = ['METRICS_PORT', 'WORKER_NICE'];
    const rows = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((match) => match[1]!);
    expect(rows.length).toBeGreaterThan(90);
    expect(rows.filter((name) => !(name in allVariables) && !cliOnly.includes(name))).toEqual([]);
    const cli = readFileSync(new URL('../../cli/main.ts', import.meta.url), 'utf8');
    for (const name of cliOnly) expect(cli).toContain(`process.env.${name}`);
    const defaults: Record<string, number> = { METRICS_PORT: DEFAULT_METRICS_PORT, WORKER_NICE: DEFAULT_WORKER_NICE };
    for (const name of cliOnly) expect(readme, `${name}'s default`).toContain(`| \`${name}\` | \`${defaults[name]}\` |`);
  });

  it('gives example values its own configuration accepts, so each command runs as shown', () => {
    const examples = exampleAssignments();
    expect(examples.length).toBeGreaterThan(10);
    for (const { name, value, line } of examples) {
      const parsed = allVariables[name].schema.safeParse(value);
      expect(parsed.success, `${name}=${value} in "${line}"`).toBe(true);
    }
  });
});

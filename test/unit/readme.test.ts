import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { intercomVariables } from '../../adapters/intercom/index.js';
import { slackVariables } from '../../adapters/slack/index.js';
import { whatsappVariables } from '../../adapters/whatsapp/index.js';
import { variables } from '../../src/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('the README', () => {
  it('shows the two first commands on its first screen', () => {
    const firstScreen = readme.split('\n').slice(0, 20).join('\n');
    expect(firstScreen).toContain('npm install && npm start');
    expect(firstScreen).toContain('npm test');
  });

  it('documents every configuration variable with its default', () => {
    for (const [name, variable] of Object.entries({ ...variables, ...slackVariables, ...intercomVariables, ...whatsappVariables })) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, `${name} is missing from the configuration table`).toBeDefined();
      const documentedDefault = row!.split('|')[2]!.trim();
      const expected = 'default' in variable && variable.default ? `\`${variable.default}\`` : '—';
      expect(documentedDefault, `${name}'s default`).toBe(expected);
    }
  });
});
